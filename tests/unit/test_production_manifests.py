"""The Kubernetes manifests (deploy/production/kubernetes) read as data, without a cluster: valid
against the Kubernetes API schemas, the same processes as the local stack and docker-compose,
each as its own service's Kafka user, every setting one the platform reads, and no secret
written into them."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

# PyYAML comes with the dev dependencies (schemathesis needs it); it ships no type stubs.
import yaml  # type: ignore[import-untyped]

from services.abnormal_push.service_config import AbnormalPushSettings
from services.kafka_access_plan import SERVICE_USERS
from services.platform_core.settings import PlatformSettings
from services.remote_eval.reference import partners
from services.reporting.settings import ReportingSettings
from tests.unit.test_deploy_files import COMPOSE, SERVICES_SH, local_processes

REPO = Path(__file__).resolve().parents[2]
MANIFESTS = REPO / "deploy" / "production" / "kubernetes"
KUBERNETES_VERSION = "1.32"
# Settings that are secrets: only ever from a Secret, never written in a manifest.
SECRET_SETTINGS = {
    "PRT_API_KEY_PEPPER",
    "PRT_REMOTE_EVAL_IDENTITY_KEY",
    "PRT_REMOTE_EVAL_DRAW_SECRET",
    "PRT_ABNORMAL_PUSH_WEBHOOK_KEY",
    "PRT_KAFKA_SASL_PASSWORD",
    "PRT_REDIS_URL",  # carries Redis's password
}


def _documents() -> list[dict[str, Any]]:
    kustomization = yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())
    docs: list[dict[str, Any]] = []
    for name in kustomization["resources"]:
        docs += [doc for doc in yaml.safe_load_all((MANIFESTS / name).read_text()) if doc]
    return docs


DOCS = _documents()


def _of_kind(kind: str) -> dict[str, dict[str, Any]]:
    return {doc["metadata"]["name"]: doc for doc in DOCS if doc["kind"] == kind}


def _container(workload: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = workload["spec"]["template"]["spec"]["containers"]
    (container,) = containers
    return container


def _env(container: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def test_every_manifest_file_is_in_the_kustomization() -> None:
    listed = set(yaml.safe_load((MANIFESTS / "kustomization.yaml").read_text())["resources"])
    on_disk = {p.name for p in MANIFESTS.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == on_disk


@pytest.mark.parametrize("doc", DOCS, ids=lambda d: f"{d['kind']}/{d['metadata']['name']}")
def test_each_document_is_valid_against_the_kubernetes_schemas(doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_refuses_a_misspelt_field() -> None:
    broken = copy.deepcopy(_of_kind("Deployment")["intake-api"])
    broken["spec"]["template"]["spec"]["contaners"] = broken["spec"]["template"]["spec"].pop(
        "containers"
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")
def test_kustomize_builds_them() -> None:
    built = subprocess.run(
        ["kubectl", "kustomize", str(MANIFESTS)], check=True, capture_output=True, text=True
    ).stdout
    kinds = [doc["kind"] for doc in yaml.safe_load_all(built) if doc]
    assert kinds.count("Deployment") == len(local_processes(SERVICES_SH.read_text()))
    assert all(doc["metadata"].get("namespace") in (None, "jinan-prt") for doc in DOCS)


def test_the_same_processes_as_the_local_stack_and_compose_with_the_same_commands() -> None:
    compose = yaml.safe_load(COMPOSE.read_text())["services"]
    deployments = _of_kind("Deployment")
    assert set(deployments) == set(local_processes(SERVICES_SH.read_text()))
    for name, deployment in deployments.items():
        assert _container(deployment)["command"] == compose[name]["command"], name


def test_each_process_is_its_own_services_kafka_user() -> None:
    for name, deployment in _of_kind("Deployment").items():
        user = name.removesuffix("-api").removesuffix("-worker")
        assert user in SERVICE_USERS
        env = _env(_container(deployment))
        assert env["PRT_KAFKA_SASL_USERNAME"]["value"] == user
        assert env["PRT_KAFKA_SASL_PASSWORD"]["valueFrom"]["secretKeyRef"] == {
            "name": f"prt-kafka-{user}",
            "key": "password",
        }


def _known_settings() -> set[str]:
    known = {f"PRT_{field.upper()}" for field in PlatformSettings.model_fields}
    known |= {f"PRT_REPORTING_{field.upper()}" for field in ReportingSettings.model_fields}
    known |= {f"PRT_ABNORMAL_PUSH_{field.upper()}" for field in AbnormalPushSettings.model_fields}
    return known | {"PRT_KAFKA_PARTNERS"}  # the ACL job's argument, not a setting


def test_every_variable_is_a_setting_the_platform_reads() -> None:
    known = _known_settings()
    (config,) = _of_kind("ConfigMap").values()
    names = set(config["data"])
    for workload in [*_of_kind("Deployment").values(), *_of_kind("Job").values()]:
        names |= set(_env(_container(workload)))
    assert sorted(names - known) == []


def test_no_secret_is_written_into_a_manifest() -> None:
    (config,) = _of_kind("ConfigMap").values()
    assert not SECRET_SETTINGS & set(config["data"])
    assert not _of_kind("Secret"), "Secrets are made by the operators (README.md), not shipped"
    for workload in [*_of_kind("Deployment").values(), *_of_kind("Job").values()]:
        for name, entry in _env(_container(workload)).items():
            if name in SECRET_SETTINGS:
                assert "value" not in entry and "secretKeyRef" in entry["valueFrom"], name


def _modules_making_a_scheduler() -> list[str]:
    """The modules that make a remote_eval Scheduler, which reads PRT_REMOTE_EVAL_DRAW_SECRET
    when made."""
    return sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "services").rglob("*.py")
        if "Scheduler(" in path.read_text(encoding="utf-8")
    )


def _api_makes_a_scheduler() -> bool:
    return any(
        m.startswith("services/remote_eval/http_api/") for m in _modules_making_a_scheduler()
    )


# Which secrets each process uses (settings.secret(...) and AbnormalPushSettings), so which
# Secrets its pod gets: nothing more. The key that unseals experts' identities stays in
# remote_eval's pods, the draw secret in its worker's (the scheduler); the API-key pepper in
# the APIs'.
SECRETS_OF_A_PROCESS = {
    "intake-api": {"prt-redis", "prt-api-keys"},
    "abnormal-push-api": {"prt-redis", "prt-api-keys", "prt-abnormal-push-secrets"},
    "remote-eval-api": {"prt-redis", "prt-api-keys", "prt-remote-eval-identity"}
    # The API applies partners' HTTP answers through the Scheduler when it makes one (see
    # test_the_draw_secret_goes_where_a_scheduler_is_made).
    | ({"prt-remote-eval-draw"} if _api_makes_a_scheduler() else set()),
    "reporting-api": {"prt-redis", "prt-api-keys"},
    "intake-worker": {"prt-redis"},
    "abnormal-push-worker": {"prt-redis", "prt-abnormal-push-secrets"},
    "remote-eval-worker": {"prt-redis", "prt-remote-eval-identity", "prt-remote-eval-draw"},
    "reporting-worker": {"prt-redis"},
}


def test_production_settings_and_each_process_only_its_own_secrets() -> None:
    (config,) = _of_kind("ConfigMap").values()
    assert config["data"]["PRT_ENVIRONMENT"] == "production"
    for name, deployment in _of_kind("Deployment").items():
        sources = _container(deployment)["envFrom"]
        assert {"configMapRef": {"name": "prt-platform"}} in sources
        secrets = {s["secretRef"]["name"] for s in sources if "secretRef" in s}
        assert secrets == SECRETS_OF_A_PROCESS[name], name


def test_the_readme_says_which_variables_each_secret_holds() -> None:
    readme = (MANIFESTS / "README.md").read_text()
    holds = {
        "prt-redis": ["PRT_REDIS_URL"],
        "prt-api-keys": ["PRT_API_KEY_PEPPER"],
        "prt-remote-eval-identity": ["PRT_REMOTE_EVAL_IDENTITY_KEY"],
        "prt-remote-eval-draw": ["PRT_REMOTE_EVAL_DRAW_SECRET"],
        "prt-abnormal-push-secrets": ["PRT_ABNORMAL_PUSH_WEBHOOK_KEY"],
    }
    for secret, variables in holds.items():
        line = next(line for line in readme.splitlines() if f"`{secret}`" in line)
        paragraph = readme[readme.index(line) :].split("\n   - ")[0]
        for variable in variables:
            assert variable in paragraph, (secret, variable)


def test_the_acl_job_covers_every_partner_of_the_reference_data() -> None:
    (config,) = _of_kind("ConfigMap").values()
    assert set(config["data"]["PRT_KAFKA_PARTNERS"].split()) == set(partners())
    (job,) = _of_kind("Job").values()
    assert "services.kafka_access_plan apply" in " ".join(_container(job)["command"])


def test_the_readme_names_every_secret_the_manifests_use() -> None:
    readme = (MANIFESTS / "README.md").read_text()
    used: set[str] = set()
    for workload in [*_of_kind("Deployment").values(), *_of_kind("Job").values()]:
        container = _container(workload)
        used |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
        used |= {
            e["valueFrom"]["secretKeyRef"]["name"]
            for e in container.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        }
    missing = [name for name in sorted(used) if not re.search(rf"\b{re.escape(name)}\b", readme)]
    assert missing == []


def test_every_process_reaches_kafka_over_tls_checked_against_the_mounted_ca() -> None:
    (config,) = _of_kind("ConfigMap").values()
    assert config["data"]["PRT_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    ca_file = Path(config["data"]["PRT_KAFKA_SSL_CAFILE"])
    for workload in [*_of_kind("Deployment").values(), *_of_kind("Job").values()]:
        pod = workload["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod["volumes"]}
        (mount,) = [m for m in _container(workload)["volumeMounts"] if m["name"] == "kafka-ca"]
        assert Path(mount["mountPath"]) == ca_file.parent and mount["readOnly"]
        assert volumes["kafka-ca"]["configMap"]["name"] == "prt-kafka-ca"


def test_the_readme_names_every_config_map_the_pods_mount() -> None:
    readme = (MANIFESTS / "README.md").read_text()
    mounted = {
        volume["configMap"]["name"]
        for workload in [*_of_kind("Deployment").values(), *_of_kind("Job").values()]
        for volume in workload["spec"]["template"]["spec"].get("volumes", [])
        if "configMap" in volume
    }
    assert mounted and all(re.search(rf"\b{re.escape(name)}\b", readme) for name in mounted)


def test_the_apis_are_ready_by_their_dependencies_and_alive_by_their_process() -> None:
    for name, deployment in _of_kind("Deployment").items():
        if not name.endswith("-api"):
            continue
        container = _container(deployment)
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz", name
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz", name


def test_the_draw_secret_goes_where_a_scheduler_is_made() -> None:
    """PRT_REMOTE_EVAL_DRAW_SECRET is read by remote_eval's worker (its start-up check and the
    Scheduler) and by whatever else makes a Scheduler; the manifests give prt-remote-eval-draw
    to exactly those processes (the API only if it makes one)."""
    readers = sorted(
        str(path.relative_to(REPO))
        for path in (REPO / "services").rglob("*.py")
        if '"remote_eval_draw_secret"' in path.read_text(encoding="utf-8")
        and path.name != "settings.py"
    )
    # The API checks it at start too: it decides partners' answers (answers.py).
    assert readers == [
        "services/remote_eval/http_api/app.py",
        "services/remote_eval/scheduler.py",
        "services/remote_eval/stream_worker.py",
    ]
    makers = _modules_making_a_scheduler()
    assert "services/remote_eval/stream_worker.py" in makers
    outside = [m for m in makers if not m.startswith("services/remote_eval/")]
    assert outside == []
    given = {
        name
        for name, deployment in _of_kind("Deployment").items()
        if {"secretRef": {"name": "prt-remote-eval-draw"}} in _container(deployment)["envFrom"]
    }
    assert given == {"remote-eval-worker"} | (
        {"remote-eval-api"} if _api_makes_a_scheduler() else set()
    )


def test_the_readme_s_one_off_pod_passes_the_restricted_pod_security_standard() -> None:
    """The namespace enforces `restricted`: the README's key-issuing pod (the one documented way
    to get a first key) carries what admission requires, as the Deployments do (found missing
    by the docs review)."""
    readme = (MANIFESTS / "README.md").read_text()
    overrides = re.search(r"--overrides='(.*?)'", readme, re.DOTALL)
    assert overrides is not None
    pod = json.loads(overrides.group(1))["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault"
    for container in pod["containers"]:
        context = container["securityContext"]
        assert context["allowPrivilegeEscalation"] is False
        assert context["capabilities"]["drop"] == ["ALL"]
    namespace = next(iter(_of_kind("Namespace").values()))
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
