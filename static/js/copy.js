// "Copy" buttons: <button type="button" data-copy="ID"> copies the text of the element with that id.
// The asynchronous clipboard API needs a secure context (https or localhost); elsewhere, or when the
// browser refuses, the text is selected and copied with execCommand, or left selected for Ctrl-C.
(function () {
  "use strict";

  function say(button, message) {
    var status = document.getElementById(button.getAttribute("aria-describedby"));
    if (status) status.textContent = message;
  }

  function selectText(element) {
    var range = document.createRange();
    range.selectNodeContents(element);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function fallback(button, element) {
    selectText(element);
    var copied = false;
    try {
      copied = document.execCommand("copy");
    } catch (refused) {
      copied = false;
    }
    say(button, copied ? "Copied." : "Selected: press Ctrl-C (⌘-C) to copy.");
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-copy]");
    if (!button) return;
    var element = document.getElementById(button.dataset.copy);
    if (!element) return;
    var text = element.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { say(button, "Copied."); },
        function () { fallback(button, element); }
      );
    } else {
      fallback(button, element);
    }
  });
})();
