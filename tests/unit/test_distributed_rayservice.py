"""deploy/rayservice.yaml against KubeRay's RayService CRD (tests/data/kuberay/, v1.7.0).

The CRD's ``openAPIV3Schema`` is checked with JSON Schema the way the API server's strict field
validation reads it: an object that lists its properties is closed unless it preserves unknown
fields, and a ``set`` list holds no duplicates. The CEL rules are not evaluated (see the data's
README). The checker is shown to catch what it must: a misspelled field, a wrong type.
"""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CRD = ROOT / "tests" / "data" / "kuberay" / "ray.io_rayservices.yaml"
MANIFEST = ROOT / "deploy" / "rayservice.yaml"
SUBSCHEMAS = ("items", "additionalProperties", "not")
SCHEMA_LISTS = ("anyOf", "allOf", "oneOf")


def strict(schema: Any) -> Any:
    """The schema with Kubernetes' structural rules made explicit for a JSON Schema validator."""
    if not isinstance(schema, dict):
        return schema
    out = dict(schema)
    if "properties" in out:
        out["properties"] = {name: strict(sub) for name, sub in out["properties"].items()}
        if "additionalProperties" not in out and not out.get("x-kubernetes-preserve-unknown-fields"):
            out["additionalProperties"] = False
    for key in SUBSCHEMAS:
        if isinstance(out.get(key), dict):
            out[key] = strict(out[key])
    for key in SCHEMA_LISTS:
        if key in out:
            out[key] = [strict(sub) for sub in out[key]]
    if out.get("x-kubernetes-list-type") == "set":
        out["uniqueItems"] = True
    return out


@cache
def crd() -> dict[str, Any]:
    return yaml.load(CRD.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@cache
def validator(version: str) -> jsonschema.Draft7Validator:
    [served] = [v for v in crd()["spec"]["versions"] if v["name"] == version and v["served"]]
    return jsonschema.Draft7Validator(strict(served["schema"]["openAPIV3Schema"]))


def manifest() -> dict[str, Any]:
    return yaml.safe_load(MANIFEST.read_text())


def errors(document: dict[str, Any]) -> list[str]:
    group, version = document["apiVersion"].split("/")
    assert (group, document["kind"]) == (crd()["spec"]["group"], crd()["spec"]["names"]["kind"])
    found = validator(version).iter_errors(document)
    return sorted(f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in found)


def test_the_manifest_is_a_valid_rayservice_of_the_crd_s_storage_version():
    document = manifest()
    [storage] = [v["name"] for v in crd()["spec"]["versions"] if v["storage"]]
    assert document["apiVersion"] == f"ray.io/{storage}"
    assert errors(document) == []


def test_the_check_refuses_a_misspelled_field():
    document = manifest()
    head = document["spec"]["rayClusterConfig"]["headGroupSpec"]
    head["rayStartParam"] = head.pop("rayStartParams")
    assert any("rayStartParam" in e for e in errors(document))


def test_the_check_refuses_a_wrong_type_and_a_closed_object_s_unknown_field():
    document = manifest()
    workers = document["spec"]["rayClusterConfig"]["workerGroupSpecs"][0]
    workers["replicas"] = "two"
    container = workers["template"]["spec"]["containers"][0]
    container["envFrom"][0]["secretRef"]["key"] = "KAIRO_DATABASE_URL"  # not a field of secretRef
    found = errors(document)
    assert any(e.startswith("spec.rayClusterConfig.workerGroupSpecs.0.replicas:") for e in found)
    assert any("envFrom.0.secretRef" in e and "key" in e for e in found)


def test_free_form_parts_stay_open():
    """rayStartParams is a map of strings and serveConfigV2 a string: extra keys are allowed
    where the CRD allows them, and values must still have the map's type."""
    document = copy.deepcopy(manifest())
    params = document["spec"]["rayClusterConfig"]["headGroupSpec"]["rayStartParams"]
    params["object-store-memory"] = "1000000000"
    assert errors(document) == []
    params["num-gpus"] = 0
    assert any("rayStartParams.num-gpus" in e for e in errors(document))


def test_the_manifest_uses_no_field_kuberay_ignores():
    deprecated = yaml.safe_load((CRD.parent / "deprecated.yaml").read_text())
    assert set(manifest()["spec"]).isdisjoint(deprecated["spec"])


def test_ray_token_auth_is_managed_by_kuberay_on_every_pod():
    """Ray 2.60 turns token auth on by default: KubeRay must hold the token (mode ``token``)
    for the pods to join and for the operator to deploy the Serve config."""
    cluster = manifest()["spec"]["rayClusterConfig"]
    assert cluster["authOptions"]["mode"] == "token"
    for group in [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]:
        env = {e["name"] for c in group["template"]["spec"]["containers"] for e in c.get("env", [])}
        assert "RAY_AUTH_MODE" not in env  # KubeRay sets it (and RAY_AUTH_TOKEN) itself
