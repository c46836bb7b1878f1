"""serve_config.yaml and cluster.yaml are valid for the Ray versions we pin."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import jsonschema
import yaml

from runtime.api.app import ApiArgs

ROOT = Path(__file__).resolve().parents[2]


def test_serve_config_matches_serve_schema_and_our_builder():
    from ray.serve.schema import ServeDeploySchema

    config = ServeDeploySchema.model_validate(yaml.safe_load((ROOT / "serve_config.yaml").read_text()))
    [app] = config.applications
    assert app.import_path == "runtime.api.app:build_app"
    assert config.http_options.host == "127.0.0.1"
    settings = ApiArgs.model_validate(app.args).to_settings()
    assert settings.brand_hosts == 2 and settings.api_max_ongoing_requests >= 64
    assert app.deployments[0].ray_actor_options.num_cpus == 0
    api = app.deployments[0]
    assert api.num_replicas >= 2 and api.max_replicas_per_node == 1  # survives the loss of a node
    assert api.health_check_period_s is not None and api.health_check_timeout_s is not None


def test_cluster_yaml_matches_the_launcher_schema():
    schema = json.loads((resources.files("ray") / "autoscaler" / "ray-schema.json").read_text())
    config = yaml.safe_load((ROOT / "cluster.yaml").read_text())
    jsonschema.validate(config, schema)
    assert any("pip install" in command for command in config["setup_commands"])
    starts = config["head_start_ray_commands"] + config["worker_start_ray_commands"]
    assert all("--disable-usage-stats" in c for c in starts if "ray start" in c)
