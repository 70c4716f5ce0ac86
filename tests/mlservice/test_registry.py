"""The registry's trust gate, the artifact cache and the `register_model` command."""

from __future__ import annotations

import operator
import os
import pickle
import stat

import pytest
import sklearn
import skops.io
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from mlservice import artifacts, registry
from mlservice.management.commands.register_model import Command as RegisterModel
from mlservice.models import ModelAlias, ModelVersion, RegisteredModel

pytestmark = pytest.mark.django_db

CUSTOM_TYPES = ["_operator.neg"]


@pytest.fixture
def custom_artifact(tmp_path, iris):
    """A pipeline with a step skops cannot vouch for (a function from `operator`)."""
    X, y = iris
    pipeline = make_pipeline(FunctionTransformer(operator.neg), StandardScaler(), LogisticRegression(max_iter=500))
    path = tmp_path / "custom.skops"
    skops.io.dump(pipeline.fit(X, y), path)
    assert skops.io.get_untrusted_types(file=path) == CUSTOM_TYPES
    return path


def test_it_registers_a_plain_model_with_its_schema(workspace, plain_artifact, owner):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[], actor=owner
    )

    stored = ModelVersion.objects.get(pk=version.pk)
    assert stored.model.name == "iris"
    assert stored.sha256 == artifacts.sha256_of(plain_artifact)
    assert stored.n_features == 4
    assert stored.dtype == "float64"
    assert stored.feature_names is None
    assert stored.outputs == ["predict", "predict_proba"]
    assert stored.trusted_types == []
    assert stored.sklearn_version == sklearn.__version__
    assert stored.sklearn_version_recorded is True
    assert stored.created_by == owner


def test_it_refuses_untrusted_types_naming_each(workspace, custom_artifact):
    with pytest.raises(registry.UntrustedTypes) as refused:
        registry.register_version(workspace=workspace, name="iris", uri=str(custom_artifact), version="1", trust=[])

    assert refused.value.types == CUSTOM_TYPES
    assert "_operator.neg" in refused.value.messages[0]
    assert not ModelVersion.objects.exists()


def test_it_stores_the_approved_types_it_was_given(workspace, custom_artifact):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(custom_artifact), version="1", trust=[*CUSTOM_TYPES, "os.system"]
    )

    # Only what the file needs is stored: the extra approval does not widen the load.
    assert ModelVersion.objects.get(pk=version.pk).trusted_types == CUSTOM_TYPES


@pytest.mark.parametrize("content", [b"garbage, not a model", None])
def test_it_refuses_pickle_and_garbage(workspace, tmp_path, iris, content):
    path = tmp_path / "model.bin"
    if content is None:
        X, y = iris
        path.write_bytes(pickle.dumps(LogisticRegression(max_iter=500).fit(X, y)))
    else:
        path.write_bytes(content)

    with pytest.raises(ValidationError, match="not a skops file"):
        registry.register_version(workspace=workspace, name="iris", uri=str(path), version="1", trust=[])
    assert not ModelVersion.objects.exists()


def test_it_refuses_a_relative_path_and_a_missing_file(workspace, tmp_path):
    with pytest.raises(ValidationError, match="must be absolute"):
        registry.register_version(workspace=workspace, name="iris", uri="model.skops", version="1", trust=[])
    with pytest.raises(ValidationError, match="no such file"):
        registry.register_version(
            workspace=workspace, name="iris", uri=str(tmp_path / "absent.skops"), version="1", trust=[]
        )


def test_it_refuses_a_second_version_with_the_same_label(workspace, plain_artifact):
    registry.register_version(workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[])

    with pytest.raises(ValidationError, match="already has a version"):
        registry.register_version(workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[])


def test_it_loads_once_into_a_private_cache(workspace, custom_artifact, private_var_dir, iris):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(custom_artifact), version="1", trust=CUSTOM_TYPES
    )

    loaded = artifacts.load(version)
    cache = private_var_dir / "model-cache"
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o700
    assert [p.name for p in cache.iterdir()] == [f"{version.pk}-{version.sha256}.skops"]
    assert loaded.warnings == ()
    assert list(loaded.model.predict(iris[0][:3])) == [0, 0, 0]

    custom_artifact.unlink()  # the source is gone: the second load is from memory
    assert artifacts.load(version) is loaded
    artifacts.forget_all()  # and a new process loads from the cache, not the source
    assert artifacts.load(version).model is not loaded.model


def test_it_loads_with_the_stored_list_not_the_artifacts(workspace, custom_artifact):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(custom_artifact), version="1", trust=CUSTOM_TYPES
    )
    ModelVersion.objects.filter(pk=version.pk).update(trusted_types=[])
    version.refresh_from_db()

    with pytest.raises(artifacts.ArtifactError, match="_operator.neg"):
        artifacts.load(version)


def test_it_refuses_a_sha256_mismatch_and_removes_the_cached_file(workspace, plain_artifact, private_var_dir):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[]
    )
    cached = private_var_dir / "model-cache" / f"{version.pk}-{version.sha256}.skops"
    artifacts.cache_dir()
    cached.write_bytes(plain_artifact.read_bytes() + b"tampered")

    with pytest.raises(artifacts.ChecksumMismatch, match="refused"):
        artifacts.load(version)
    assert not cached.exists()


def test_it_refuses_a_changed_source_artifact(workspace, plain_artifact, tmp_path, iris):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[]
    )
    X, y = iris
    skops.io.dump(LogisticRegression(max_iter=50, C=0.01).fit(X, y), plain_artifact)

    with pytest.raises(artifacts.ChecksumMismatch):
        artifacts.load(version)


@pytest.mark.parametrize("mode", [0o770, 0o707, 0o755])
def test_it_refuses_a_cache_dir_others_can_reach(workspace, plain_artifact, private_var_dir, mode):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[]
    )
    cache = private_var_dir / "model-cache"
    cache.mkdir()
    cache.chmod(mode)

    with pytest.raises(artifacts.UnsafeCacheDir, match=f"{mode:04o}"):
        artifacts.load(version)
    assert list(cache.iterdir()) == []


def test_it_refuses_a_cache_dir_that_is_a_link(workspace, plain_artifact, private_var_dir, tmp_path):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[]
    )
    target = tmp_path / "elsewhere"
    target.mkdir(mode=0o700)
    (private_var_dir / "model-cache").symlink_to(target)

    with pytest.raises(artifacts.UnsafeCacheDir, match="must be a directory"):
        artifacts.load(version)


def test_it_warns_when_scikit_learn_is_newer_than_recorded(workspace, plain_artifact):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[]
    )
    ModelVersion.objects.filter(pk=version.pk).update(sklearn_version="1.0.2")
    version.refresh_from_db()

    assert "newer" in artifacts.load(version).warnings[0]
    assert artifacts.version_warnings("1.9.0", running="1.9.1") == ()


def test_it_moves_an_alias(workspace, plain_artifact, custom_artifact, owner, teammate):
    first = registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[], alias="production"
    )
    second = registry.register_version(
        workspace=workspace, name="iris", uri=str(custom_artifact), version="2", trust=CUSTOM_TYPES
    )
    assert ModelAlias.objects.get(model__name="iris", name="production").version == first

    alias = registry.alias_move(model="iris", alias="production", version="2", actor=teammate)

    assert ModelAlias.objects.count() == 1
    stored = ModelAlias.objects.get(pk=alias.pk)
    assert (stored.version, stored.updated_by) == (second, teammate)


def test_it_refuses_to_point_an_alias_at_another_models_version(workspace, plain_artifact):
    registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[], alias="production"
    )
    other = registry.register_version(workspace=workspace, name="wine", uri=str(plain_artifact), version="1", trust=[])

    with pytest.raises(ValidationError, match="another model"):
        registry.alias_move(model="iris", alias="production", version=other)
    with pytest.raises(ValidationError, match="no version"):
        registry.alias_move(model="iris", alias="production", version="9")


def test_the_command_refuses_listing_each_untrusted_type(custom_artifact, capsys):
    with pytest.raises(CommandError, match="1 untrusted type"):
        call_command("register_model", "iris", str(custom_artifact), "--version", "1")

    assert "_operator.neg" in capsys.readouterr().err
    assert not ModelVersion.objects.exists()


def test_the_command_registers_with_trust_and_alias(custom_artifact, capsys):
    call_command(
        "register_model",
        "iris",
        str(custom_artifact),
        "--version",
        "1",
        "--alias",
        "production",
        "--trust",
        *CUSTOM_TYPES,
    )

    version = ModelVersion.objects.get(model__name="iris", version="1")
    out = capsys.readouterr().out
    assert f"Registered iris version 1 sha256 {version.sha256}" in out
    assert version.aliases.get().name == "production"


def test_the_command_refuses_a_pickle(tmp_path):
    path = tmp_path / "model.pkl"
    path.write_bytes(pickle.dumps({"not": "a model"}))

    with pytest.raises(CommandError, match="not a skops file"):
        call_command("register_model", "iris", str(path), "--version", "1")


def test_the_command_exits_non_zero_from_the_shell(custom_artifact, capsys):
    with pytest.raises(SystemExit) as exited:
        RegisterModel().run_from_argv(["manage.py", "register_model", "iris", str(custom_artifact), "--version", "1"])

    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert "  _operator.neg" in err
    assert "Refused: 1 untrusted type(s)." in err


@pytest.fixture
def s3(moto_server, monkeypatch, tmp_path):
    """S3 on the suite's moto server, found through AWS_ENDPOINT_URL as a deployment finds AWS."""
    import boto3

    for name in [name for name in os.environ if name.startswith("AWS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_server)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    client = boto3.client("s3")
    for bucket in client.list_buckets().get("Buckets", []):
        for item in client.list_objects_v2(Bucket=bucket["Name"]).get("Contents", []):
            client.delete_object(Bucket=bucket["Name"], Key=item["Key"])
        client.delete_bucket(Bucket=bucket["Name"])
    client.create_bucket(Bucket="models")
    return client


def test_it_registers_and_loads_from_s3_downloading_once(workspace, s3, plain_artifact, private_var_dir, iris):
    s3.upload_file(str(plain_artifact), "models", "iris/1.skops")
    version = registry.register_version(
        workspace=workspace, name="iris", uri="s3://models/iris/1.skops", version="1", trust=[]
    )
    assert version.sha256 == artifacts.sha256_of(plain_artifact)

    artifacts.load(version)
    s3.delete_object(Bucket="models", Key="iris/1.skops")  # later loads must not need the bucket
    artifacts.forget_all()

    assert list(artifacts.load(version).model.predict(iris[0][:1])) == [0]


def test_an_s3_artifact_changed_after_registration_is_refused(workspace, s3, plain_artifact, custom_artifact):
    s3.upload_file(str(plain_artifact), "models", "iris/1.skops")
    version = registry.register_version(
        workspace=workspace, name="iris", uri="s3://models/iris/1.skops", version="1", trust=[]
    )
    s3.upload_file(str(custom_artifact), "models", "iris/1.skops")  # overwritten in the bucket

    with pytest.raises(artifacts.ChecksumMismatch, match="sha256"):
        artifacts.load(version)


def test_the_demo_model_comes_from_s3_and_registers_once(s3, example_operation, capsys):
    call_command("demo_model", "--s3")
    call_command("demo_model", "--s3")

    version = ModelVersion.objects.get()
    assert version.artifact_uri == "s3://snailtrail-demo-models/iris/1.skops"
    assert version.model.operation == example_operation
    assert version.model.workspace == example_operation.workspace  # its members call it, nobody else
    assert ModelAlias.objects.get(name="production").version == version
    out = capsys.readouterr().out
    assert out.count("Registered iris:1") == 1 and "Demo model iris:1" in out
    assert artifacts.load(version).model.predict([[5.1, 3.5, 1.4, 0.2]])[0] == 0


def test_the_demo_model_without_aws_is_a_local_file(db, private_var_dir):
    call_command("demo_model")

    assert ModelVersion.objects.get().artifact_uri == str(private_var_dir / "demo-models" / "iris-1.skops")


def test_it_names_the_s3_error(workspace, s3):
    with pytest.raises(ValidationError, match="404"):
        registry.register_version(
            workspace=workspace, name="iris", uri="s3://models/absent.skops", version="1", trust=[]
        )


def test_the_admin_moves_an_alias_through_the_service(workspace, admin_client, superuser, plain_artifact, monkeypatch):
    registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[], alias="production"
    )
    second = registry.register_version(workspace=workspace, name="iris", uri=str(plain_artifact), version="2", trust=[])
    alias = ModelAlias.objects.get()
    calls = []
    real = registry.alias_move
    monkeypatch.setattr(registry, "alias_move", lambda **kwargs: calls.append(kwargs) or real(**kwargs))

    response = admin_client.post(f"/admin/mlservice/modelalias/{alias.pk}/change/", {"version": second.pk})

    assert response.status_code == 302
    assert calls and calls[0]["actor"] == superuser
    alias.refresh_from_db()
    assert (alias.version, alias.updated_by) == (second, superuser)


def test_the_admin_shows_versions_read_only(workspace, admin_client, plain_artifact):
    version = registry.register_version(
        workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[]
    )

    assert admin_client.get("/admin/mlservice/modelversion/").status_code == 200
    assert admin_client.get("/admin/mlservice/modelversion/add/").status_code == 403
    page = admin_client.get(f"/admin/mlservice/modelversion/{version.pk}/change/")
    assert page.status_code == 200
    assert b'name="_save"' not in page.content
    assert admin_client.post(f"/admin/mlservice/modelversion/{version.pk}/delete/", {"post": "yes"}).status_code == 403


def test_the_admin_refuses_an_alias_on_another_models_version(workspace, admin_client, plain_artifact):
    registry.register_version(workspace=workspace, name="iris", uri=str(plain_artifact), version="1", trust=[])
    other = registry.register_version(workspace=workspace, name="wine", uri=str(plain_artifact), version="1", trust=[])
    iris = RegisteredModel.objects.get(name="iris")

    response = admin_client.post(
        "/admin/mlservice/modelalias/add/", {"model": iris.pk, "name": "production", "version": other.pk}
    )

    assert response.status_code == 200
    assert b"belongs to another model" in response.content
    assert not ModelAlias.objects.exists()
