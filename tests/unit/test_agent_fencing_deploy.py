"""The KubeRay RayService manifest: its Serve config is one Ray Serve accepts, with the API
replicated over nodes (the Kubernetes part is not checked against KubeRay's CRD here)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from runtime.api.app import ApiArgs

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_rayservice_serve_config_validates_against_serve_and_replicates_the_api():
    from ray.serve.schema import ServeDeploySchema

    manifest = yaml.safe_load((ROOT / "deploy" / "rayservice.yaml").read_text())
    assert manifest["kind"] == "RayService" and manifest["apiVersion"] == "ray.io/v1"
    config = ServeDeploySchema.model_validate(yaml.safe_load(manifest["spec"]["serveConfigV2"]))
    [app] = config.applications
    assert app.import_path == "runtime.api.app:build_app"
    ApiArgs.model_validate(app.args)  # settings names and values Kairo knows
    [api] = app.deployments
    assert api.num_replicas >= 2 and api.max_replicas_per_node == 1


def test_rayservice_turns_usage_stats_off_on_every_node():
    manifest = yaml.safe_load((ROOT / "deploy" / "rayservice.yaml").read_text())
    cluster = manifest["spec"]["rayClusterConfig"]
    groups = [cluster["headGroupSpec"], *cluster["workerGroupSpecs"]]
    for group in groups:
        env = {e["name"]: e.get("value") for c in group["template"]["spec"]["containers"] for e in c.get("env", [])}
        assert env.get("RAY_USAGE_STATS_ENABLED") == "0"
