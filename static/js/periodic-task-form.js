// The admin's periodic task form (django-celery-beat): under the crontab field, says in words what
// the chosen schedule means. Its inline script, moved here (templates/admin/djcelery/).
(function ($) {
  "use strict";

  var readableCrontabs = JSON.parse(document.getElementById("readable-crontabs").textContent);
  var originalCrontabHelp = JSON.parse(document.getElementById("crontab-help").textContent);

  function updateCrontabHelp(additional) {
    $(".field-crontab .help").text(originalCrontabHelp).append("<br>", document.createTextNode("Translation: " + additional));
  }

  $(".field-crontab_translation").hide();
  $(".field-crontab").change(function () {
    updateCrontabHelp(readableCrontabs[$("#id_crontab").val()]);
  });
})(django.jQuery);
