#!/usr/bin/env python3
"""Checks the Helm chart helm/rusk offline, with Helm's own engine.

Usage (from anywhere):
    [RUSK_BIN=path/to/rusk] ~/.cache/rusk-venv/bin/python helm/check.py [--kube-version 1.33.0] [--chart DIR]

Needs the PyPI packages helm-python-sdk (import helm_python: Helm v4's Go library, so lint,
schema validation and rendering are Helm's own), kubernetes-validate (the Kubernetes OpenAPI
schemas), PyYAML and jsonschema. No cluster and no network.

For every values file in helm/rusk/ci/ it
  - lints the chart with those values (errors fail, warnings are printed),
  - validates the values against values.schema.json, and checks that broken variants of them
    (replicas: "two", an unknown key, a Kubernetes-style size for Rusk) are rejected,
  - renders every template as `helm template rusk helm/rusk -n rusk -f FILE` would, splits
    the documents (a duplicate YAML key is an error) and validates each manifest against the
    Kubernetes schemas in strict mode (unknown fields fail); CRD kinds it does not know
    (ServiceMonitor) are noted and their shape checked here,
  - checks what would break a real release: selectors against pod labels, one Deployment a
    worker pool, GPU limits, the migration hook, termination grace above RUSK_SHUTDOWN_GRACE,
    existingSecret, Ingress -> Service -> container port, probes on ports and paths Rusk
    serves (API and worker pods: GET /readyz and /healthz, workers on the metrics port; the
    Ballista scheduler: the same on its port; executors: a TCP check of the Flight port),
    Rusk setting names against src/, RUSK_MEMORY_LIMIT under the container's memory limit,
    security contexts and writable mounts under a read-only root file system,
  - the Ballista cluster: with ballista.enabled one scheduler Deployment (1 replica, Recreate)
    and one ClusterIP Service selecting it on its port; executors whose RUSK_BALLISTA_URL is
    that Service, RUSK_EXECUTOR_HOST the pod IP (status.podIP), listen addresses on 0.0.0.0
    with both ports declared, scratch on an emptyDir and the workers' data root; the API and
    workers with RUSK_BALLISTA_URL the same URL and RUSK_ENGINE ballista.defaultEngine. With
    it off, none of these objects and no RUSK_BALLISTA_URL anywhere,
  - GPU workers: with gpuWorkers.enabled one more `rusk worker` Deployment <fullname>-gpu-worker
    with the CPU workers' image, command, ConfigMap, Secret, shared env, volumes, security
    contexts and probes, plus resources.limits["nvidia.com/gpu"] gpusPerPod (CPU and memory
    merged over workerDefaults.resources), RUSK_GPUS gpus, RUSK_GPU_MEMORY_LIMIT exactly when
    gpuMemoryLimit is set, its nodeSelector, tolerations and runtimeClassName, and a PDB like
    the pools'. With it off (the default), no such object. Its defaults and other RUSK_GPUS
    forms (device numbers, a bare number) are rendered and checked too.
With RUSK_BIN (a built rusk binary) each container's role must be a rusk subcommand, the
RUSK_* variables of its own env must be settings that subcommand lists in --help (an
executor setting on the scheduler is ignored silently), and its whole rendered environment
must be accepted by `rusk migrate` (run against a temporary SQLite file): a setting Rusk
cannot parse fails here rather than in a crash-looping pod.
Each worker pool's container is then started for real (`rusk worker` with its rendered
environment, that SQLite file, RUSK_METRICS_LISTEN on a free loopback port in 18220-18239)
and must answer 200 on /metrics, /healthz, /readyz and whatever its probes ask for, then
exit 0 on SIGTERM. With Ballista, the scheduler and an executor are started the same way
(rendered environments, loopback ports of that range): the scheduler must answer 200 on its
probes' paths, the executor must open its Flight port and register with the scheduler, and
both must stop on SIGTERM.
It also checks that the chart refuses values that cannot work (no database, SQLite, no shared
result store, duplicate pool names, a Ballista default engine without Ballista, executor
heartbeats not below the scheduler's timeout) and that README.md lists every value.

Prints one summary line per values file; exits 0 when everything passes, 1 otherwise.
"""

from __future__ import annotations

import argparse
import base64
import copy
import ipaddress
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from importlib import metadata
from pathlib import Path

import helm_python as helm
import jsonschema
import kubernetes_validate
import yaml

REPO = Path(__file__).resolve().parent.parent
CHART = REPO / "helm" / "rusk"  # --chart replaces it (to try a changed copy)
RELEASE = "rusk"
NAMESPACE = "rusk"
# The Dockerfile's user `rusk`.
UID = 10001
# CRD kinds kubernetes-validate has no schema for; their shape is checked below.
CRD_GROUPS = {"monitoring.coreos.com"}
CLUSTER_SCOPED = {
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "PersistentVolume",
    "StorageClass",
    "CustomResourceDefinition",
    "PriorityClass",
}
DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
# `rusk scheduler` and `rusk executor`: the Ballista cluster's roles.
BALLISTA_ROLES = {"scheduler", "executor"}


class UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML keeps the last of two equal keys; Kubernetes tooling may not, so refuse them."""


def _mapping(loader, node, deep=False):
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    return loader.construct_mapping(node, deep)


UniqueKeyLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def known_settings() -> set[str]:
    """Every environment variable Rusk reads, from its source: a ConfigMap key that is not in
    it is a typo Rusk would silently ignore. Clap's `env = "…"` (src/config.rs's global
    settings, src/cluster.rs's scheduler and executor ones) and direct reads."""
    names = direct_settings()
    for path in (REPO / "src").rglob("*.rs"):
        names |= set(re.findall(r'\benv\s*=\s*"([A-Z0-9_]+)"', path.read_text()))
    return names


def direct_settings() -> set[str]:
    """The RUSK_* variables read outside clap (RUSK_LOG, RUSK_LOG_FORMAT): every role reads
    them, though no --help lists them."""
    names: set[str] = set()
    for path in (REPO / "src").rglob("*.rs"):
        names |= set(
            re.findall(
                r'(?:env::var(?:_os)?|try_from_env)\(\s*"(RUSK_[A-Z0-9_]+)"', path.read_text()
            )
        )
    return names


def rusk_size(text: str) -> int:
    """Bytes of a Rusk size (src/spec/size.rs: decimal and binary units, no `Gi`)."""
    m = re.fullmatch(r"\s*([0-9.]+)\s*([A-Za-z]*)\s*", text)
    units = {
        "": 1,
        "b": 1,
        "kb": 10**3,
        "k": 10**3,
        "mb": 10**6,
        "m": 10**6,
        "gb": 10**9,
        "g": 10**9,
        "tb": 10**12,
        "t": 10**12,
        "kib": 2**10,
        "mib": 2**20,
        "gib": 2**30,
        "tib": 2**40,
    }
    if not m or m.group(2).lower() not in units:
        raise ValueError(f"{text!r} is not a size Rusk accepts (e.g. 4GB, 1.5GiB)")
    return int(float(m.group(1)) * units[m.group(2).lower()])


def k8s_quantity(text) -> float:
    """A Kubernetes quantity (4Gi, 500M, 1.5, 250m) in base units."""
    m = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(text))
    suffixes = {
        "": 1,
        "m": 1e-3,
        "k": 1e3,
        "M": 1e6,
        "G": 1e9,
        "T": 1e12,
        "P": 1e15,
        "Ki": 2**10,
        "Mi": 2**20,
        "Gi": 2**30,
        "Ti": 2**40,
        "Pi": 2**50,
    }
    if not m or m.group(2) not in suffixes:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    return float(m.group(1)) * suffixes[m.group(2)]


def listen_port(address: str) -> tuple[str, int]:
    host, _, port = address.rpartition(":")
    return host.strip("[]"), int(port)


def listeners(role: str, env: dict[str, str]) -> list[tuple[str, str, set[str]]]:
    """(setting, address, HTTP paths) of every port a role listens on with this environment."""
    health = {"/healthz", "/readyz"}
    if role == "scheduler":
        # src/cluster.rs: one port for gRPC, Ballista's REST API and the probes' paths.
        return [
            ("RUSK_SCHEDULER_LISTEN", env.get("RUSK_SCHEDULER_LISTEN", "127.0.0.1:50050"), health)
        ]
    if role == "executor":
        # Arrow Flight and the task service, both gRPC on the listen address's host.
        flight = env.get("RUSK_EXECUTOR_LISTEN", "127.0.0.1:50051")
        tasks = f"{flight.rpartition(':')[0]}:{env.get('RUSK_EXECUTOR_GRPC_PORT', '50052')}"
        return [("RUSK_EXECUTOR_LISTEN", flight, set()), ("RUSK_EXECUTOR_GRPC_PORT", tasks, set())]
    out = []
    if role in ("api", "serve"):  # a worker binds no API
        out.append(("RUSK_LISTEN", env.get("RUSK_LISTEN", "127.0.0.1:8080"), health | {"/metrics"}))
    if role in ("api", "serve", "worker") and "RUSK_METRICS_LISTEN" in env:
        # src/app.rs spawn_metrics: the same routes in every role that serves it.
        out.append(("RUSK_METRICS_LISTEN", env["RUSK_METRICS_LISTEN"], health | {"/metrics"}))
    return out


def changed(values: dict, dotted: str, value) -> dict:
    """A copy of values with one key (a.b.c) set."""
    out = copy.deepcopy(values)
    node = out
    *parents, last = dotted.split(".")
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    return out


def role_of(workload: dict) -> str:
    """The rusk subcommand a workload's first container runs (`serve` when none)."""
    return (workload["spec"]["template"]["spec"]["containers"][0].get("args") or ["serve"])[0]


def selects(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def hook_phases(obj: dict) -> set[str]:
    value = (obj["metadata"].get("annotations") or {}).get("helm.sh/hook", "")
    return {p.strip() for p in value.split(",") if p.strip()}


class Release:
    """The rendered manifests of one values file, with lookups the checks share."""

    def __init__(self, objs: list[dict], values: dict):
        self.objs = objs
        self.values = values
        self.by_kind: dict[str, list[dict]] = {}
        for obj in objs:
            self.by_kind.setdefault(obj["kind"], []).append(obj)

    def kind(self, kind: str) -> list[dict]:
        return self.by_kind.get(kind, [])

    def get(self, kind: str, name: str) -> dict | None:
        return next((o for o in self.kind(kind) if o["metadata"]["name"] == name), None)

    def workloads(self) -> list[tuple[dict, dict]]:
        """(object, pod spec) of every Deployment and Job."""
        return [
            (o, o["spec"]["template"]["spec"]) for o in self.kind("Deployment") + self.kind("Job")
        ]

    def container_env(self, container: dict) -> dict[str, str]:
        """What a container sees: ConfigMaps and Secrets through envFrom, then env."""
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                cm = self.get("ConfigMap", source["configMapRef"]["name"])
                env.update((cm or {}).get("data") or {})
            if "secretRef" in source:
                secret = self.get("Secret", source["secretRef"]["name"])
                for key in (secret or {}).get("data") or {}:
                    env[key] = "<secret>"
        for item in container.get("env", []):
            env[item["name"]] = item.get("value", "<valueFrom>")
        return env


class Checker:
    def __init__(self, kube_version: str):
        self.kube_version = kube_version
        self.failures: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.settings = known_settings()

    def fail(self, message: str) -> None:
        self.failures.append(message)

    def expect(self, condition, message: str) -> bool:
        if not condition:
            self.fail(message)
        return bool(condition)

    # --- Helm: lint, schema, render -------------------------------------------------------

    def lint(self, values: dict) -> None:
        report = helm.lint(
            str(CHART), values, namespace=NAMESPACE, kube_version="v" + self.kube_version
        )
        for message in report.get("messages", []):
            text = f"lint {message.get('path')}: {message.get('error', '').strip()}"
            if message.get("severity") == 3:
                self.fail(text)
            elif message.get("severity") == 2:
                self.warnings.append(text)
        for error in report.get("errors") or []:
            if not any(error.strip() in f for f in self.failures):
                self.fail(f"lint: {error.strip()}")

    def schema(self, chart: helm.Chart, values: dict) -> None:
        try:
            chart.validate_schema(values)
        except helm.HelmValuesError as e:
            self.fail(f"values.schema.json rejects the file: {e}")
            return
        pools = chart.merge_values(values)["workers"] or [{"name": "cpu"}]
        broken = {
            'api.replicas: "two"': changed(values, "api.replicas", "two"),
            'workers[0].replicas: "two"': changed(
                values, "workers", [{**pools[0], "replicas": "two"}]
            ),
            "a worker pool without a name": changed(values, "workers", [{"replicas": 1}]),
            "an unknown top-level key replicaCount": changed(values, "replicaCount", 2),
            "workerDefaults.memoryLimit: 4Gi (Kubernetes' unit, not Rusk's)": changed(
                values, "workerDefaults.memoryLimit", "4Gi"
            ),
            "database.url: sqlite://": changed(values, "database.url", "sqlite:///tmp/rusk.db"),
            'ballista.defaultEngine: "dask"': changed(values, "ballista.defaultEngine", "dask"),
            "ballista.scheduler.replicas: 2 (the scheduler is one pod)": changed(
                values, "ballista.scheduler.replicas", 2
            ),
            "ballista.executors.memoryLimit: 4Gi": changed(
                values, "ballista.executors.memoryLimit", "4Gi"
            ),
            'gpuWorkers.gpus: "gpu0"': changed(values, "gpuWorkers.gpus", "gpu0"),
            "gpuWorkers.gpuMemoryLimit: 8Gi": changed(values, "gpuWorkers.gpuMemoryLimit", "8Gi"),
            "gpuWorkers.gpusPerPod: 0": changed(values, "gpuWorkers.gpusPerPod", 0),
        }
        for what, bad in broken.items():
            try:
                chart.validate_schema(bad)
                self.fail(f"values.schema.json accepts {what}")
            except helm.HelmValuesError:
                pass
        # `helm template` and `helm install` validate too, before rendering anything.
        try:
            chart.render(broken['api.replicas: "two"'], name=RELEASE, namespace=NAMESPACE)
            self.fail('rendering accepts api.replicas: "two"')
        except helm.HelmValuesError:
            pass

    def render(self, chart: helm.Chart, values: dict) -> list[dict]:
        rendered = chart.render(values, name=RELEASE, namespace=NAMESPACE, is_install=True)
        objs = []
        for path, text in sorted(rendered.items()):
            if path.endswith("NOTES.txt"):
                self.expect(text.strip(), "NOTES.txt renders empty")
                continue
            try:
                docs = list(yaml.load_all(text, Loader=UniqueKeyLoader))
            except yaml.YAMLError as e:
                self.fail(f"{path}: not valid YAML: {e}")
                continue
            for doc in docs:
                if doc is None:
                    continue
                if not isinstance(doc, dict) or "kind" not in doc:
                    self.fail(f"{path}: a document without a kind")
                    continue
                doc["__source"] = path
                objs.append(doc)
        return objs

    # --- Kubernetes schemas -----------------------------------------------------------------

    def kube_schemas(self, objs: list[dict], versions: list[str]) -> None:
        for obj in objs:
            clean = {k: v for k, v in obj.items() if k != "__source"}
            where = f"{obj['__source']} {obj['kind']}/{obj['metadata'].get('name')}"
            for version in versions:
                try:
                    kubernetes_validate.validate(clean, version, strict=True)
                except kubernetes_validate.ValidationError as e:
                    path = ".".join(str(p) for p in e.path)
                    self.fail(f"{where}: Kubernetes {version} schema: {path}: {e.message}")
                except kubernetes_validate.SchemaNotFoundError:
                    group = obj["apiVersion"].split("/")[0]
                    if group in CRD_GROUPS:
                        self.notes.append(
                            f"{obj['kind']} ({obj['apiVersion']}) is a CRD kind "
                            "kubernetes-validate does not know: shape checked here"
                        )
                    else:
                        self.fail(
                            f"{where}: no schema for {obj['apiVersion']} {obj['kind']} "
                            f"in Kubernetes {version}"
                        )

    # --- What would break a real release --------------------------------------------------

    def semantics(self, rel: Release) -> None:
        v = rel.values
        self.metadata(rel)
        self.settings_names(rel)
        self.deployments(rel)
        self.workers(rel)
        self.migration(rel)
        self.secrets(rel)
        self.services_and_ingress(rel)
        self.probes_and_ports(rel)
        self.metrics(rel)
        self.security(rel)
        self.autoscaling(rel)
        self.pdbs(rel)
        self.ballista(rel)
        self.gpu_workers(rel)
        if v["persistence"]["enabled"] and not v["persistence"]["existingClaim"]:
            claims = rel.kind("PersistentVolumeClaim")
            self.expect(len(claims) == 1, "persistence.enabled renders no PersistentVolumeClaim")
            for claim in claims:
                self.expect(
                    "ReadWriteMany" in claim["spec"]["accessModes"],
                    f"PVC {claim['metadata']['name']} is shared by every pod but not ReadWriteMany",
                )

    def metadata(self, rel: Release) -> None:
        seen = set()
        for obj in rel.objs:
            meta, kind = obj["metadata"], obj["kind"]
            name = meta.get("name", "")
            key = (kind, name)
            self.expect(key not in seen, f"two {kind}s named {name}")
            seen.add(key)
            self.expect(
                len(name) <= 63 and DNS_LABEL.match(name),
                f"{kind} name {name!r} is not a DNS label of at most 63 characters",
            )
            if kind not in CLUSTER_SCOPED:
                self.expect(
                    meta.get("namespace") == NAMESPACE,
                    f"{kind}/{name} is not in namespace {NAMESPACE}",
                )
            labels = meta.get("labels") or {}
            for label in (
                "app.kubernetes.io/name",
                "app.kubernetes.io/instance",
                "app.kubernetes.io/managed-by",
                "helm.sh/chart",
            ):
                self.expect(label in labels, f"{kind}/{name} lacks the label {label}")

    def settings_names(self, rel: Release) -> None:
        def check(name: str, where: str) -> None:
            if name.startswith("RUSK_"):
                self.expect(
                    name in self.settings,
                    f"{where}: {name} is not a setting Rusk reads (src/config.rs)",
                )

        for cm in rel.kind("ConfigMap"):
            for key in cm.get("data") or {}:
                check(key, f"ConfigMap {cm['metadata']['name']}")
        for secret in rel.kind("Secret"):
            for key in secret.get("data") or {}:
                check(key, f"Secret {secret['metadata']['name']}")
        for obj, pod in rel.workloads():
            for c in pod["containers"]:
                for item in c.get("env", []):
                    check(item["name"], f"{obj['kind']}/{obj['metadata']['name']}")
        for obj, pod in rel.workloads():
            if obj["kind"] != "Deployment":
                continue
            for c in pod["containers"]:
                env = rel.container_env(c)
                if "RUSK_MEMORY_LIMIT" in env:
                    try:
                        pool = rusk_size(env["RUSK_MEMORY_LIMIT"])
                    except ValueError as e:
                        self.fail(f"Deployment/{obj['metadata']['name']}: RUSK_MEMORY_LIMIT: {e}")
                        continue
                    limit = (c.get("resources", {}).get("limits") or {}).get("memory")
                    if self.expect(
                        limit,
                        f"Deployment/{obj['metadata']['name']} sets "
                        "RUSK_MEMORY_LIMIT but no memory limit for the container",
                    ):
                        self.expect(
                            pool < k8s_quantity(limit),
                            f"Deployment/{obj['metadata']['name']}: RUSK_MEMORY_LIMIT "
                            f"{env['RUSK_MEMORY_LIMIT']} is not under the container's "
                            f"memory limit {limit}",
                        )
                if "RUSK_SLOTS" in env:
                    self.expect(
                        env["RUSK_SLOTS"].isdigit() and int(env["RUSK_SLOTS"]) > 0,
                        f"Deployment/{obj['metadata']['name']}: RUSK_SLOTS "
                        f"{env['RUSK_SLOTS']!r} is not a positive integer",
                    )

    def deployments(self, rel: Release) -> None:
        deployments = rel.kind("Deployment")
        for d in deployments:
            name = d["metadata"]["name"]
            selector = d["spec"]["selector"]["matchLabels"]
            pod_labels = d["spec"]["template"]["metadata"]["labels"]
            self.expect(
                selects(selector, pod_labels),
                f"Deployment/{name}: selector {selector} does not match its pod labels",
            )
            for other in deployments:
                if other is not d:
                    self.expect(
                        not selects(selector, other["spec"]["template"]["metadata"]["labels"]),
                        f"Deployment/{name}'s selector also matches the pods of "
                        f"Deployment/{other['metadata']['name']}",
                    )
            for c in d["spec"]["template"]["spec"]["containers"]:
                grace = int(rel.container_env(c).get("RUSK_SHUTDOWN_GRACE", "30"))
                period = d["spec"]["template"]["spec"].get("terminationGracePeriodSeconds", 30)
                self.expect(
                    period > grace,
                    f"Deployment/{name}: terminationGracePeriodSeconds {period} is not "
                    f"above RUSK_SHUTDOWN_GRACE {grace}: running jobs would be killed "
                    "before they go back to the queue",
                )
        apis = [
            d
            for d in deployments
            if d["spec"]["template"]["spec"]["containers"][0].get("args") == ["api"]
        ]
        self.expect(len(apis) == 1, f"expected one Deployment running `rusk api`, got {len(apis)}")

    def workers(self, rel: Release) -> None:
        pools = rel.values["workers"]
        defaults = rel.values["workerDefaults"]
        workers = [
            d
            for d in rel.kind("Deployment")
            if d["spec"]["template"]["spec"]["containers"][0].get("args") == ["worker"]
        ]
        wanted = len(pools) + int(rel.values["gpuWorkers"]["enabled"])
        self.expect(
            len(workers) == wanted,
            f"{len(pools)} worker pools (and gpuWorkers.enabled "
            f"{rel.values['gpuWorkers']['enabled']}) in the values but {len(workers)} worker "
            "Deployments",
        )
        image = rel.values["image"]
        for pool in pools:
            matching = [
                d for d in workers if d["metadata"]["labels"].get("rusk/pool") == pool["name"]
            ]
            if not self.expect(
                len(matching) == 1,
                f"worker pool {pool['name']!r} renders {len(matching)} Deployments",
            ):
                continue
            d = matching[0]
            name = d["metadata"]["name"]
            pod = d["spec"]["template"]["spec"]
            c = pod["containers"][0]
            self.expect(
                d["spec"].get("replicas") == pool.get("replicas", 1),
                f"Deployment/{name}: replicas {d['spec'].get('replicas')} but the pool "
                f"asks for {pool.get('replicas', 1)}",
            )
            gpu = pool.get("gpu", defaults.get("gpu", 0)) or 0
            limits = c.get("resources", {}).get("limits") or {}
            if gpu:
                self.expect(
                    limits.get("nvidia.com/gpu") == gpu,
                    f"Deployment/{name}: GPU pool without nvidia.com/gpu: {gpu} in limits",
                )
                for key in ("nodeSelector", "tolerations"):
                    if key in pool:
                        self.expect(
                            pod.get(key) == pool[key],
                            f"Deployment/{name}: the pool's {key} is not on the pod",
                        )
                if image.get("gpuTag") and not pool.get("image"):
                    self.expect(
                        c["image"].endswith(":" + str(image["gpuTag"])),
                        f"Deployment/{name}: GPU pool does not use image.gpuTag",
                    )
            else:
                self.expect(
                    "nvidia.com/gpu" not in limits,
                    f"Deployment/{name}: a CPU pool asks for nvidia.com/gpu",
                )
            env = rel.container_env(c)
            slots = pool.get("slots", defaults.get("slots"))
            if slots is not None:
                self.expect(
                    env.get("RUSK_SLOTS") == str(slots),
                    f"Deployment/{name}: RUSK_SLOTS is {env.get('RUSK_SLOTS')}, the pool says {slots}",
                )
            self.expect(
                "RUSK_METRICS_LISTEN" in env,
                f"Deployment/{name}: a worker without RUSK_METRICS_LISTEN serves no port at all",
            )
        if "gpu" in rel.values.get("__file", ""):
            self.expect(
                any(p.get("gpu") for p in pools) or rel.values["gpuWorkers"]["enabled"],
                "the GPU values file has no GPU pool and no gpuWorkers",
            )

    def migration(self, rel: Release) -> None:
        jobs = rel.kind("Job")
        if not rel.values["migration"]["enabled"]:
            self.expect(not jobs, "migration.enabled is false but a Job renders")
            return
        if not self.expect(len(jobs) == 1, f"expected one migration Job, got {len(jobs)}"):
            return
        job = jobs[0]
        annotations = job["metadata"].get("annotations") or {}
        self.expect(
            hook_phases(job) == {"pre-install", "pre-upgrade"},
            f"migration Job hook is {annotations.get('helm.sh/hook')!r}, not pre-install,pre-upgrade",
        )
        policy = set(annotations.get("helm.sh/hook-delete-policy", "").split(","))
        self.expect(
            {"before-hook-creation", "hook-succeeded"} <= policy,
            "migration Job's hook-delete-policy lacks before-hook-creation,hook-succeeded",
        )
        job_weight = int(annotations.get("helm.sh/hook-weight", "0"))
        pod = job["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.expect(
            c.get("args") == ["migrate"], f"migration Job runs {c.get('args')}, not migrate"
        )
        self.expect(
            pod.get("restartPolicy") in ("Never", "OnFailure"), "migration Job restarts Always"
        )
        # Hooks run before the release's own objects exist: the Job may use only hook objects
        # of an earlier weight, or objects the operator made.
        ordinary = {(o["kind"], o["metadata"]["name"]) for o in rel.objs if not hook_phases(o)}
        refs = [
            (
                "Secret",
                e["valueFrom"]["secretKeyRef"]["name"],
                e["valueFrom"]["secretKeyRef"]["key"],
            )
            for e in c.get("env", [])
            if "secretKeyRef" in e.get("valueFrom", {})
        ]
        refs += [
            ("ConfigMap", e["valueFrom"]["configMapKeyRef"]["name"], None)
            for e in c.get("env", [])
            if "configMapKeyRef" in e.get("valueFrom", {})
        ]
        for src in c.get("envFrom", []):
            for kind, key in (("Secret", "secretRef"), ("ConfigMap", "configMapRef")):
                if key in src:
                    refs.append((kind, src[key]["name"], None))
        if pod.get("serviceAccountName"):
            refs.append(("ServiceAccount", pod["serviceAccountName"], None))
        for kind, name, _ in refs:
            self.expect(
                (kind, name) not in ordinary,
                f"migration Job uses {kind}/{name}, which is created only after the pre-install hook",
            )
            hook = rel.get(kind, name)
            if hook is not None:
                weight = int(
                    (hook["metadata"].get("annotations") or {}).get("helm.sh/hook-weight", "0")
                )
                self.expect(
                    hook_phases(hook) >= {"pre-install", "pre-upgrade"} and weight < job_weight,
                    f"migration Job uses {kind}/{name}, which is not an earlier pre-install/pre-upgrade hook",
                )
        db = [r for r in refs if r[0] == "Secret" and r[2] == "DATABASE_URL"]
        self.expect(db, "migration Job does not get DATABASE_URL from a Secret")
        for _, name, _ in db:
            secret = rel.get("Secret", name)
            if secret is not None:
                self.expect(
                    "DATABASE_URL" in (secret.get("data") or {}),
                    f"Secret/{name} has no DATABASE_URL for the migration Job",
                )
            else:
                self.expect(
                    name == rel.values["existingSecret"],
                    f"migration Job reads Secret/{name}, which neither renders nor is existingSecret",
                )

    def secrets(self, rel: Release) -> None:
        existing = rel.values["existingSecret"]
        if existing:
            self.expect(
                not rel.kind("Secret"), "existingSecret is set but the chart still renders a Secret"
            )
        names = set()
        for obj, pod in rel.workloads():
            for c in pod["containers"]:
                for src in c.get("envFrom", []):
                    if "secretRef" in src:
                        names.add(src["secretRef"]["name"])
                    if "configMapRef" in src:
                        self.expect(
                            rel.get("ConfigMap", src["configMapRef"]["name"]),
                            f"{obj['kind']}/{obj['metadata']['name']} reads a ConfigMap that does not render",
                        )
                for e in c.get("env", []):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        names.add(ref["name"])
            for vol in pod.get("volumes", []):
                claim = vol.get("persistentVolumeClaim", {}).get("claimName")
                if claim:
                    self.expect(
                        rel.get("PersistentVolumeClaim", claim)
                        or claim
                        in (
                            rel.values["persistence"]["existingClaim"],
                            rel.values["dataRoot"]["existingClaim"],
                        ),
                        f"{obj['kind']}/{obj['metadata']['name']} mounts a claim {claim} that nothing provides",
                    )
        for name in names:
            if existing:
                self.expect(
                    name == existing, f"pods read Secret/{name}, not existingSecret {existing}"
                )
            else:
                secret = rel.get("Secret", name)
                self.expect(
                    secret and "DATABASE_URL" in (secret.get("data") or {}),
                    f"pods read Secret/{name}, which does not render with DATABASE_URL",
                )
        if not existing:
            with_url = [x for x in rel.kind("Secret") if "DATABASE_URL" in (x.get("data") or {})]
            self.expect(with_url, "no Secret renders with DATABASE_URL")
            for x in with_url:
                self.expect(
                    base64.b64decode(x["data"]["DATABASE_URL"]).decode()
                    == rel.values["database"]["url"],
                    f"Secret/{x['metadata']['name']}: DATABASE_URL is not database.url",
                )

    def pods_of(self, rel: Release, selector: dict) -> list[dict]:
        return [
            d
            for d in rel.kind("Deployment")
            if selects(selector, d["spec"]["template"]["metadata"]["labels"])
        ]

    def container_port(self, deployment: dict, target) -> int | None:
        for c in deployment["spec"]["template"]["spec"]["containers"]:
            for p in c.get("ports", []):
                if target in (p.get("name"), p["containerPort"]):
                    return p["containerPort"]
        return None

    def services_and_ingress(self, rel: Release) -> None:
        for svc in rel.kind("Service"):
            name = svc["metadata"]["name"]
            backends = self.pods_of(rel, svc["spec"].get("selector") or {})
            if not self.expect(backends, f"Service/{name} selects no Deployment's pods"):
                continue
            for d in backends:
                for port in svc["spec"]["ports"]:
                    self.expect(
                        self.container_port(d, port.get("targetPort", port["port"])),
                        f"Service/{name} port {port.get('name')} targets "
                        f"{port.get('targetPort')}, which Deployment/{d['metadata']['name']} does not expose",
                    )
        api = next(
            (
                d
                for d in rel.kind("Deployment")
                if d["spec"]["template"]["spec"]["containers"][0].get("args") == ["api"]
            ),
            None,
        )
        ingresses = rel.kind("Ingress")
        self.expect(
            bool(ingresses) == rel.values["ingress"]["enabled"],
            "ingress.enabled does not match whether an Ingress renders",
        )
        for ing in ingresses:
            iname = ing["metadata"]["name"]
            if rel.values["ingress"]["className"]:
                self.expect(
                    ing["spec"].get("ingressClassName") == rel.values["ingress"]["className"],
                    f"Ingress/{iname} ignores ingress.className",
                )
            rule_hosts = {r.get("host") for r in ing["spec"].get("rules", [])}
            for tls in ing["spec"].get("tls", []):
                self.expect(
                    set(tls.get("hosts", [])) <= rule_hosts,
                    f"Ingress/{iname}: TLS hosts {tls.get('hosts')} have no rule",
                )
            for rule in ing["spec"].get("rules", []):
                for path in rule["http"]["paths"]:
                    backend = path["backend"]["service"]
                    svc = rel.get("Service", backend["name"])
                    if not self.expect(
                        svc,
                        f"Ingress/{iname} routes to Service/{backend['name']}, which does not render",
                    ):
                        continue
                    want = backend["port"].get("name", backend["port"].get("number"))
                    port = next(
                        (p for p in svc["spec"]["ports"] if want in (p.get("name"), p["port"])),
                        None,
                    )
                    if not self.expect(
                        port,
                        f"Ingress/{iname} routes to port {want}, which Service/{backend['name']} lacks",
                    ):
                        continue
                    self.expect(
                        api
                        and selects(
                            svc["spec"]["selector"], api["spec"]["template"]["metadata"]["labels"]
                        ),
                        f"Ingress/{iname} routes to Service/{backend['name']}, which does not select the API pods",
                    )
                    if api:
                        target = self.container_port(api, port.get("targetPort", port["port"]))
                        env = rel.container_env(api["spec"]["template"]["spec"]["containers"][0])
                        self.expect(
                            target == listen_port(env.get("RUSK_LISTEN", "127.0.0.1:8080"))[1],
                            f"Ingress/{iname} reaches container port {target}, but the API listens on "
                            f"{env.get('RUSK_LISTEN')}",
                        )

    def probes_and_ports(self, rel: Release) -> None:
        for d in rel.kind("Deployment"):
            name = d["metadata"]["name"]
            for c in d["spec"]["template"]["spec"]["containers"]:
                env = rel.container_env(c)
                role = (c.get("args") or ["serve"])[0]
                served: dict[int, set[str]] = {}
                for var, address, paths in listeners(role, env):
                    host, port = listen_port(address)
                    self.expect(
                        not ipaddress.ip_address(host).is_loopback,
                        f"Deployment/{name}: {var}={address} is loopback, unreachable for probes and Services",
                    )
                    served[port] = paths
                exposed = {p["containerPort"] for p in c.get("ports", [])}
                self.expect(
                    exposed <= set(served),
                    f"Deployment/{name}: container ports {sorted(exposed - set(served))} are not ports Rusk listens on",
                )
                for kind in ("livenessProbe", "readinessProbe", "startupProbe"):
                    probe = c.get(kind)
                    if not probe:
                        continue
                    action = probe.get("httpGet") or probe.get("tcpSocket")
                    if not self.expect(
                        action, f"Deployment/{name}: {kind} is neither httpGet nor tcpSocket"
                    ):
                        continue
                    port = self.container_port(d, action["port"])
                    if not self.expect(
                        port in served,
                        f"Deployment/{name}: {kind} hits port {action['port']}, "
                        "which Rusk does not serve in this role",
                    ):
                        continue
                    if "httpGet" in probe:
                        self.expect(
                            probe["httpGet"]["path"] in served[port],
                            f"Deployment/{name}: {kind} asks {probe['httpGet']['path']} on port {port}, "
                            f"which serves only {sorted(served[port])}",
                        )
                # An executor serves no HTTP: its probes are TCP checks of the Flight port,
                # the port the other executors and the workers fetch task output from.
                if role == "executor":
                    wanted = listen_port(env.get("RUSK_EXECUTOR_LISTEN", "127.0.0.1:50051"))[1]
                    for kind in ("readinessProbe", "livenessProbe"):
                        got = (c.get(kind) or {}).get("tcpSocket", {})
                        self.expect(
                            self.container_port(d, got.get("port")) == wanted,
                            f"Deployment/{name}: the executor's {kind} is not a TCP check of "
                            f"its Flight port (RUSK_EXECUTOR_LISTEN={env.get('RUSK_EXECUTOR_LISTEN')})",
                        )
                # A TCP check passes while the job store is gone; /readyz writes to it, and
                # /healthz does no I/O, so liveness does not restart a busy worker.
                probe_port = {
                    "api": ("RUSK_LISTEN", "its HTTP port"),
                    "worker": ("RUSK_METRICS_LISTEN", "its metrics port"),
                    "scheduler": ("RUSK_SCHEDULER_LISTEN", "its port"),
                }.get(role)
                if probe_port:
                    var, what = probe_port
                    wanted = listen_port(env[var])[1] if var in env else None
                    for kind, path in (
                        ("readinessProbe", "/readyz"),
                        ("livenessProbe", "/healthz"),
                    ):
                        got = (c.get(kind) or {}).get("httpGet", {})
                        self.expect(
                            wanted is not None
                            and got.get("path") == path
                            and self.container_port(d, got.get("port")) == wanted,
                            f"Deployment/{name}: the {role}'s {kind} is not GET {path} on {what} "
                            f"({var}={env.get(var)})",
                        )

    def metrics(self, rel: Release) -> None:
        m = rel.values["metrics"]
        for d in rel.kind("Deployment"):
            name = d["metadata"]["name"]
            annotations = d["spec"]["template"]["metadata"].get("annotations") or {}
            env = rel.container_env(d["spec"]["template"]["spec"]["containers"][0])
            if "prometheus.io/scrape" in annotations:
                self.expect(
                    "RUSK_METRICS_LISTEN" in env
                    and int(annotations.get("prometheus.io/port", 0))
                    == listen_port(env["RUSK_METRICS_LISTEN"])[1]
                    and annotations.get("prometheus.io/path") == "/metrics",
                    f"Deployment/{name}: prometheus.io annotations do not point at RUSK_METRICS_LISTEN's /metrics",
                )
            elif m["podAnnotations"] and "RUSK_METRICS_LISTEN" in env:
                self.fail(
                    f"Deployment/{name}: metrics.podAnnotations is on but the pod has no prometheus.io/scrape"
                )
        monitors = rel.kind("ServiceMonitor")
        self.expect(
            bool(monitors) == m["serviceMonitor"]["enabled"],
            "metrics.serviceMonitor.enabled does not match whether a ServiceMonitor renders",
        )
        for sm in monitors:
            name = sm["metadata"]["name"]
            spec = sm.get("spec") or {}
            self.expect(
                sm["apiVersion"] == "monitoring.coreos.com/v1", f"ServiceMonitor/{name}: apiVersion"
            )
            allowed = {
                "selector",
                "endpoints",
                "namespaceSelector",
                "jobLabel",
                "targetLabels",
                "podTargetLabels",
                "sampleLimit",
                "attachMetadata",
            }
            self.expect(
                set(spec) <= allowed,
                f"ServiceMonitor/{name}: unknown spec fields {set(spec) - allowed}",
            )
            ns = (spec.get("namespaceSelector") or {}).get(
                "matchNames", [sm["metadata"].get("namespace")]
            )
            self.expect(
                NAMESPACE in ns, f"ServiceMonitor/{name} does not look in namespace {NAMESPACE}"
            )
            selected = [
                s
                for s in rel.kind("Service")
                if selects(
                    (spec.get("selector") or {}).get("matchLabels") or {},
                    s["metadata"].get("labels") or {},
                )
            ]
            self.expect(selected, f"ServiceMonitor/{name} selects no Service")
            ports = {p.get("name") for s in selected for p in s["spec"]["ports"]}
            endpoints = spec.get("endpoints") or []
            self.expect(endpoints, f"ServiceMonitor/{name} has no endpoints")
            covered = set()
            for ep in endpoints:
                allowed_ep = {
                    "port",
                    "path",
                    "interval",
                    "scrapeTimeout",
                    "authorization",
                    "scheme",
                    "honorLabels",
                    "relabelings",
                    "metricRelabelings",
                    "tlsConfig",
                }
                self.expect(
                    set(ep) <= allowed_ep,
                    f"ServiceMonitor/{name}: unknown endpoint fields {set(ep) - allowed_ep}",
                )
                self.expect(
                    ep.get("port") in ports,
                    f"ServiceMonitor/{name}: endpoint port {ep.get('port')} is on no selected Service",
                )
                self.expect(
                    ep.get("path", "/metrics") == "/metrics",
                    f"ServiceMonitor/{name}: path {ep.get('path')}",
                )
                for key in ("interval", "scrapeTimeout"):
                    if key in ep:
                        self.expect(
                            re.fullmatch(r"[0-9]+(ms|s|m|h)", str(ep[key])),
                            f"ServiceMonitor/{name}: {key} {ep[key]!r}",
                        )
                for s in selected:
                    for p in s["spec"]["ports"]:
                        if p.get("name") != ep.get("port"):
                            continue
                        for d in self.pods_of(rel, s["spec"]["selector"]):
                            env = rel.container_env(d["spec"]["template"]["spec"]["containers"][0])
                            target = self.container_port(d, p.get("targetPort"))
                            covered.add(d["metadata"]["name"])
                            if (
                                "RUSK_METRICS_LISTEN" in env
                                and target == listen_port(env["RUSK_METRICS_LISTEN"])[1]
                            ):
                                continue
                            # The API port: /metrics needs RUSK_METRICS_TOKEN once keys exist.
                            cred = (ep.get("authorization") or {}).get("credentials") or {}
                            self.expect(
                                cred.get("key") == "RUSK_METRICS_TOKEN"
                                and cred.get("name")
                                in (
                                    {rel.values["existingSecret"]}
                                    if rel.values["existingSecret"]
                                    else {
                                        x["metadata"]["name"]
                                        for x in rel.kind("Secret")
                                        if "RUSK_METRICS_TOKEN" in (x.get("data") or {})
                                    }
                                ),
                                f"ServiceMonitor/{name} scrapes Deployment/{d['metadata']['name']}'s API port "
                                "without a RUSK_METRICS_TOKEN credential from a Secret that has it",
                            )
            for d in rel.kind("Deployment"):
                if role_of(d) in BALLISTA_ROLES:
                    continue  # the scheduler and executors serve no /metrics
                self.expect(
                    d["metadata"]["name"] in covered,
                    f"ServiceMonitor/{name} scrapes no port of Deployment/{d['metadata']['name']}",
                )

    def security(self, rel: Release) -> None:
        for obj, pod in rel.workloads():
            name = f"{obj['kind']}/{obj['metadata']['name']}"
            psc = pod.get("securityContext") or {}
            for c in pod["containers"]:
                sc = {**psc, **(c.get("securityContext") or {})}
                self.expect(sc.get("runAsNonRoot") is True, f"{name}: not runAsNonRoot")
                self.expect(
                    sc.get("runAsUser") == UID,
                    f"{name}: runAsUser {sc.get('runAsUser')}, not {UID} (user rusk)",
                )
                csc = c.get("securityContext") or {}
                self.expect(
                    csc.get("readOnlyRootFilesystem") is True,
                    f"{name}: root file system is writable",
                )
                self.expect(
                    csc.get("allowPrivilegeEscalation") is False,
                    f"{name}: allows privilege escalation",
                )
                self.expect(
                    "ALL" in ((csc.get("capabilities") or {}).get("drop") or []),
                    f"{name}: keeps capabilities",
                )
                mounts = {m["mountPath"]: m for m in c.get("volumeMounts", [])}
                env = rel.container_env(c)
                data_dir = env.get("RUSK_DATA_DIR", "./rusk-data")
                self.expect(
                    data_dir in mounts and not mounts[data_dir].get("readOnly"),
                    f"{name}: RUSK_DATA_DIR {data_dir} is not a writable mount (root file system is read-only)",
                )
                self.expect(
                    "/tmp" in mounts, f"{name}: /tmp is not mounted on a read-only root file system"
                )
                root = env.get("RUSK_DATA_ROOT")
                if obj["kind"] == "Deployment":
                    self.expect(
                        root and any(root.split("{tenant}")[0].startswith(p) for p in mounts),
                        f"{name}: RUSK_DATA_ROOT {root} is not on a mounted volume",
                    )

    def autoscaling(self, rel: Release) -> None:
        hpas = rel.kind("HorizontalPodAutoscaler")
        enabled = rel.values["api"]["autoscaling"]["enabled"]
        self.expect(
            bool(hpas) == enabled, "api.autoscaling.enabled does not match whether an HPA renders"
        )
        api = next(
            (
                d
                for d in rel.kind("Deployment")
                if d["spec"]["template"]["spec"]["containers"][0].get("args") == ["api"]
            ),
            None,
        )
        for hpa in hpas:
            ref = hpa["spec"]["scaleTargetRef"]
            self.expect(
                ref["kind"] == "Deployment" and api and ref["name"] == api["metadata"]["name"],
                f"HPA/{hpa['metadata']['name']} does not scale the API Deployment",
            )
            self.expect(
                any(
                    m.get("resource", {}).get("name") == "cpu"
                    for m in hpa["spec"].get("metrics", [])
                ),
                "the API's HPA does not scale on CPU",
            )
            self.expect(
                api and "replicas" not in api["spec"],
                "the API Deployment sets replicas while an HPA scales it (each upgrade would reset it)",
            )
            # CPU utilization is relative to the request: without one the HPA cannot work.
            self.expect(
                api
                and all(
                    (c.get("resources", {}).get("requests") or {}).get("cpu")
                    for c in api["spec"]["template"]["spec"]["containers"]
                ),
                "the API's HPA scales on CPU but the container requests no CPU",
            )
        if not enabled and api:
            self.expect(
                api["spec"].get("replicas") == rel.values["api"]["replicas"],
                "the API Deployment's replicas are not api.replicas",
            )

    def pdbs(self, rel: Release) -> None:
        deployments = rel.kind("Deployment")
        for pdb in rel.kind("PodDisruptionBudget"):
            matched = [
                d
                for d in deployments
                if selects(
                    pdb["spec"]["selector"]["matchLabels"],
                    d["spec"]["template"]["metadata"]["labels"],
                )
            ]
            self.expect(
                len(matched) == 1,
                f"PDB/{pdb['metadata']['name']} covers {len(matched)} Deployments, not one",
            )
            self.expect(
                ("minAvailable" in pdb["spec"]) != ("maxUnavailable" in pdb["spec"]),
                f"PDB/{pdb['metadata']['name']} needs exactly one of minAvailable and maxUnavailable",
            )
        ballista = rel.values["ballista"]
        wanted = (
            int(rel.values["api"]["pdb"]["create"])
            + sum(
                1
                for p in rel.values["workers"]
                if p.get("pdb", {}).get("create", rel.values["workerDefaults"]["pdb"]["create"])
            )
            + int(ballista["enabled"] and ballista["executors"]["pdb"]["create"])
            + int(
                rel.values["gpuWorkers"]["enabled"]
                and rel.values["workerDefaults"]["pdb"]["create"]
            )
        )
        self.expect(
            len(rel.kind("PodDisruptionBudget")) == wanted,
            f"{len(rel.kind('PodDisruptionBudget'))} PDBs render, the values ask for {wanted}",
        )

    def ballista(self, rel: Release) -> None:
        """The Ballista cluster: one scheduler behind a Service, executors that find it and
        are found by their pod IP, and the API and workers pointed at the same scheduler."""
        b = rel.values["ballista"]
        deployments = rel.kind("Deployment")
        schedulers = [d for d in deployments if role_of(d) == "scheduler"]
        executors = [d for d in deployments if role_of(d) == "executor"]
        clients = [d for d in deployments if role_of(d) in ("api", "worker")]
        if not b["enabled"]:
            stray = [
                f"{o['kind']}/{o['metadata']['name']}"
                for o in rel.objs
                if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/component")
                in BALLISTA_ROLES
            ]
            self.expect(
                not schedulers and not executors and not stray,
                f"ballista.enabled is false but Ballista objects render: {stray}",
            )
            for obj, pod in rel.workloads():
                for c in pod["containers"]:
                    self.expect(
                        "RUSK_BALLISTA_URL" not in rel.container_env(c),
                        f"{obj['kind']}/{obj['metadata']['name']}: RUSK_BALLISTA_URL is set "
                        "but ballista.enabled is false",
                    )
            return
        if not self.expect(
            len(schedulers) == 1, f"expected one scheduler Deployment, got {len(schedulers)}"
        ):
            return
        sched = schedulers[0]
        sname = f"Deployment/{sched['metadata']['name']}"
        # Its state is in memory: a second scheduler (or an overlapping rollout) splits it.
        self.expect(sched["spec"].get("replicas") == 1, f"{sname}: replicas is not 1")
        self.expect(
            (sched["spec"].get("strategy") or {}).get("type") == "Recreate",
            f"{sname}: strategy is not Recreate (two schedulers would run during a rollout)",
        )
        senv = rel.container_env(sched["spec"]["template"]["spec"]["containers"][0])
        shost, sport = listen_port(senv.get("RUSK_SCHEDULER_LISTEN", "127.0.0.1:50050"))
        self.expect(
            ipaddress.ip_address(shost).is_unspecified,
            f"{sname}: RUSK_SCHEDULER_LISTEN={senv.get('RUSK_SCHEDULER_LISTEN')} is not 0.0.0.0",
        )
        self.expect(
            sport == b["scheduler"]["port"],
            f"{sname}: listens on {sport}, not ballista.scheduler.port {b['scheduler']['port']}",
        )
        self.expect(
            self.container_port(sched, sport) == sport,
            f"{sname}: port {sport} (RUSK_SCHEDULER_LISTEN) is not a container port",
        )
        self.expect(
            senv.get("RUSK_EXECUTOR_TIMEOUT") == str(b["scheduler"]["executorTimeoutSeconds"]),
            f"{sname}: RUSK_EXECUTOR_TIMEOUT {senv.get('RUSK_EXECUTOR_TIMEOUT')} is not "
            "ballista.scheduler.executorTimeoutSeconds",
        )
        services = [
            s
            for s in rel.kind("Service")
            if selects(
                s["spec"].get("selector") or {}, sched["spec"]["template"]["metadata"]["labels"]
            )
        ]
        if not self.expect(
            len(services) == 1, f"{len(services)} Services select the scheduler's pod, not one"
        ):
            return
        svc = services[0]
        svc_name = svc["metadata"]["name"]
        self.expect(
            svc["spec"].get("type", "ClusterIP") == "ClusterIP"
            and svc["spec"].get("clusterIP") != "None",
            f"Service/{svc_name}: the scheduler's Service is not a ClusterIP Service",
        )
        # Its /readyz answers 503 until an executor has registered, and executors register
        # through the Service: one that waits for readiness never lets the first one in.
        self.expect(
            "readinessProbe" not in sched["spec"]["template"]["spec"]["containers"][0]
            or svc["spec"].get("publishNotReadyAddresses") is True,
            f"Service/{svc_name}: the scheduler is ready only once an executor has registered "
            "through this Service, which lacks publishNotReadyAddresses: true",
        )
        port = next(
            (
                p
                for p in svc["spec"]["ports"]
                if self.container_port(sched, p.get("targetPort", p["port"])) == sport
            ),
            None,
        )
        if not self.expect(port, f"Service/{svc_name} has no port to the scheduler's {sport}"):
            return
        # The names a pod in the namespace reaches the Service by.
        hosts = {
            svc_name + suffix
            for suffix in (
                "",
                f".{NAMESPACE}",
                f".{NAMESPACE}.svc",
                f".{NAMESPACE}.svc.cluster.local",
            )
        }
        self.expect(
            senv.get("RUSK_SCHEDULER_HOST") in hosts,
            f"{sname}: RUSK_SCHEDULER_HOST {senv.get('RUSK_SCHEDULER_HOST')} is not Service/{svc_name}'s name",
        )

        def points_at_scheduler(url: str | None) -> bool:
            m = re.fullmatch(r"df://([^:/]+):([0-9]+)", url or "")
            return bool(m) and m.group(1) in hosts and int(m.group(2)) == port["port"]

        if not self.expect(executors, "ballista.enabled renders no executor Deployment"):
            return

        def volumes_of(d: dict) -> dict[str, dict]:
            """A pod's volumes by name, without the name."""
            return {
                v["name"]: {k: x for k, x in v.items() if k != "name"}
                for v in d["spec"]["template"]["spec"].get("volumes", [])
            }

        worker_volumes = [volumes_of(d) for d in clients if role_of(d) == "worker"]
        for d in executors:
            name = f"Deployment/{d['metadata']['name']}"
            self.expect(
                d["spec"].get("replicas") == b["executors"]["replicas"],
                f"{name}: replicas {d['spec'].get('replicas')}, not ballista.executors.replicas",
            )
            c = d["spec"]["template"]["spec"]["containers"][0]
            env = rel.container_env(c)
            self.expect(
                points_at_scheduler(env.get("RUSK_BALLISTA_URL")),
                f"{name}: RUSK_BALLISTA_URL {env.get('RUSK_BALLISTA_URL')} is not "
                f"df://<Service/{svc_name}>:{port['port']}",
            )
            # Registered under the pod IP: other executors and the workers fetch from it.
            host = next((e for e in c.get("env", []) if e["name"] == "RUSK_EXECUTOR_HOST"), {})
            self.expect(
                (host.get("valueFrom") or {}).get("fieldRef", {}).get("fieldPath")
                == "status.podIP",
                f"{name}: RUSK_EXECUTOR_HOST is not the pod IP (valueFrom fieldRef status.podIP)",
            )
            for var, address, _ in listeners("executor", env):
                lhost, lport = listen_port(address)
                self.expect(
                    ipaddress.ip_address(lhost).is_unspecified,
                    f"{name}: {var} listens on {lhost}, not 0.0.0.0: other pods cannot reach it",
                )
                self.expect(
                    self.container_port(d, lport) == lport,
                    f"{name}: port {lport} ({var}) is not a container port",
                )
            self.expect(
                int(env.get("RUSK_EXECUTOR_HEARTBEAT", "5"))
                < int(senv.get("RUSK_EXECUTOR_TIMEOUT", "30")),
                f"{name}: RUSK_EXECUTOR_HEARTBEAT is not below the scheduler's RUSK_EXECUTOR_TIMEOUT",
            )
            slots = b["executors"]["slots"]
            if slots is not None:
                self.expect(
                    env.get("RUSK_EXECUTOR_SLOTS") == str(slots),
                    f"{name}: RUSK_EXECUTOR_SLOTS {env.get('RUSK_EXECUTOR_SLOTS')}, the values say {slots}",
                )
            # Shuffle and spill files: the pod's own scratch, never a volume others share.
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            volumes = volumes_of(d)
            scratch = volumes.get(mounts.get(env.get("RUSK_DATA_DIR", "./rusk-data")), {})
            self.expect(
                "emptyDir" in scratch,
                f"{name}: RUSK_DATA_DIR {env.get('RUSK_DATA_DIR')} is not an emptyDir",
            )
            # Local sources: the executors must see the files the workers see.
            root = env.get("RUSK_DATA_ROOT", "").split("{tenant}")[0]
            mount = max((m for m in mounts if root.startswith(m)), key=len, default=None)
            for wv in worker_volumes:
                self.expect(
                    mount and volumes.get(mounts[mount]) == wv.get(mounts[mount]),
                    f"{name}: RUSK_DATA_ROOT {root} is not on the volume the workers mount there",
                )
        for d in clients:
            name = f"Deployment/{d['metadata']['name']}"
            env = rel.container_env(d["spec"]["template"]["spec"]["containers"][0])
            url = env.get("RUSK_BALLISTA_URL")
            self.expect(
                points_at_scheduler(url),
                f"{name}: RUSK_BALLISTA_URL {url} is not df://<Service/{svc_name}>:{port['port']}",
            )
            self.expect(
                env.get("RUSK_ENGINE") == b["defaultEngine"],
                f"{name}: RUSK_ENGINE {env.get('RUSK_ENGINE')} is not ballista.defaultEngine {b['defaultEngine']}",
            )

    def gpu_workers(self, rel: Release) -> None:
        """gpuWorkers: on, one more worker Deployment <fullname>-gpu-worker, built as the pools
        are (the same image, command, ConfigMap and Secret, shared env, volumes and probes)
        plus the nvidia.com/gpu limit, RUSK_GPUS, RUSK_GPU_MEMORY_LIMIT only when set, and
        the GPU nodes' placement; off, nothing of it renders."""
        g = rel.values["gpuWorkers"]
        defaults = rel.values["workerDefaults"]
        objs = [
            o
            for o in rel.objs
            if o["metadata"]["name"].endswith("-gpu-worker")
            or (o["metadata"].get("labels") or {}).get("rusk/pool") == "gpu-worker"
        ]
        if not g["enabled"]:
            self.expect(
                not objs,
                "gpuWorkers.enabled is false but GPU worker objects render: "
                f"{[o['kind'] + '/' + o['metadata']['name'] for o in objs]}",
            )
            return
        found = [o for o in objs if o["kind"] == "Deployment"]
        if not self.expect(
            len(found) == 1, f"gpuWorkers.enabled renders {len(found)} GPU worker Deployments"
        ):
            return
        d = found[0]
        name = d["metadata"]["name"]
        where = f"Deployment/{name}"
        labels = d["spec"]["template"]["metadata"]["labels"]
        self.expect(
            name.endswith("-gpu-worker")
            and labels.get("app.kubernetes.io/component") == "worker"
            and labels.get("rusk/pool") == "gpu-worker",
            f"{where}: not named <fullname>-gpu-worker with the labels of pool gpu-worker",
        )
        pod = d["spec"]["template"]["spec"]
        c = pod["containers"][0]
        self.expect(c.get("args") == ["worker"], f"{where} runs {c.get('args')}, not worker")
        self.expect(
            d["spec"].get("replicas") == g["replicas"],
            f"{where}: replicas {d['spec'].get('replicas')}, not gpuWorkers.replicas {g['replicas']}",
        )
        resources = c.get("resources") or {}
        self.expect(
            (resources.get("limits") or {}).get("nvidia.com/gpu") == g["gpusPerPod"],
            f"{where}: limits {resources.get('limits')} lack nvidia.com/gpu: {g['gpusPerPod']}",
        )
        for part in ("requests", "limits"):
            want = {
                **(defaults["resources"].get(part) or {}),
                **(g["resources"].get(part) or {}),
            }
            got = {k: x for k, x in (resources.get(part) or {}).items() if k != "nvidia.com/gpu"}
            self.expect(
                got == want,
                f"{where}: {part} {got} are not gpuWorkers.resources over workerDefaults' ({want})",
            )
        env = {e["name"]: e.get("value") for e in c.get("env", [])}
        gpus = None if g["gpus"] in ("", None) else str(g["gpus"])
        self.expect(
            env.get("RUSK_GPUS") == gpus,
            f"{where}: RUSK_GPUS {env.get('RUSK_GPUS')!r}, gpuWorkers.gpus says {gpus!r}",
        )
        self.expect(
            env.get("RUSK_GPU_MEMORY_LIMIT") == (g["gpuMemoryLimit"] or None),
            f"{where}: RUSK_GPU_MEMORY_LIMIT {env.get('RUSK_GPU_MEMORY_LIMIT')!r}, "
            f"gpuWorkers.gpuMemoryLimit says {g['gpuMemoryLimit']!r} (unset when empty)",
        )
        if g["gpuMemoryLimit"]:
            try:
                rusk_size(g["gpuMemoryLimit"])
            except ValueError as e:
                self.fail(f"{where}: RUSK_GPU_MEMORY_LIMIT: {e}")
        placement = {
            "nodeSelector": {**defaults["nodeSelector"], **g["nodeSelector"]},
            "tolerations": g["tolerations"],
            "runtimeClassName": g["runtimeClassName"],
        }
        for key, want in placement.items():
            self.expect(
                pod.get(key) == (want or None),
                f"{where}: {key} {pod.get(key)!r}, the values say {want!r}",
            )
        image = rel.values["image"]
        api = next((x for x in rel.kind("Deployment") if role_of(x) == "api"), None)
        want_image = (
            f":{image['gpuTag']}"
            if image.get("gpuTag")
            else api and api["spec"]["template"]["spec"]["containers"][0]["image"]
        )
        self.expect(
            want_image and c["image"].endswith(want_image),
            f"{where}: image {c['image']}, not the chart's ({want_image})",
        )
        # What every worker pod shares, as the CPU workers have it.
        pools = {p["name"]: p for p in rel.values["workers"]}
        for other in rel.kind("Deployment"):
            if other is d or role_of(other) != "worker":
                continue
            oname = other["metadata"]["name"]
            pool = pools.get(other["metadata"]["labels"].get("rusk/pool"), {})
            opod = other["spec"]["template"]["spec"]
            oc = opod["containers"][0]
            for key in ("command", "envFrom", "ports", "volumeMounts", "securityContext"):
                self.expect(
                    c.get(key) == oc.get(key),
                    f"{where}: its {key} differs from Deployment/{oname}'s",
                )
            for key in ("volumes", "securityContext", "serviceAccountName"):
                self.expect(
                    pod.get(key) == opod.get(key),
                    f"{where}: its pod {key} differs from Deployment/{oname}'s",
                )
            for key in ("livenessProbe", "readinessProbe"):
                if key not in pool:
                    self.expect(
                        c.get(key) == oc.get(key),
                        f"{where}: its {key} differs from Deployment/{oname}'s",
                    )
            own = {"RUSK_SLOTS", "RUSK_MEMORY_LIMIT"} | {e["name"] for e in pool.get("env", [])}
            for item in oc.get("env", []):
                if item["name"] not in own:
                    self.expect(
                        item in c.get("env", []),
                        f"{where}: lacks {item['name']} of Deployment/{oname}'s env",
                    )
        pdbs = [o for o in objs if o["kind"] == "PodDisruptionBudget"]
        self.expect(
            len(pdbs) == int(defaults["pdb"]["create"])
            and all(
                selects(p["spec"]["selector"]["matchLabels"], labels)
                and p["metadata"]["name"] == name
                for p in pdbs
            ),
            f"{where}: {len(pdbs)} PDBs of its own, workerDefaults.pdb.create is "
            f"{defaults['pdb']['create']}",
        )


def check_binary(rel: Release, rusk: str, checker: Checker) -> None:
    """Every rendered container's command and environment, given to a real `rusk`: the role
    must be a subcommand, and every setting must parse (a bad size, CIDR or address fails at
    start-up, before any server). `rusk migrate` parses all settings and binds nothing; the
    database becomes a SQLite file and the directories temporary ones. The settings a
    container sets itself must be ones its subcommand takes (its --help lists them)."""
    ballista: dict[str, tuple[dict, dict[str, str], str]] = {}
    direct = direct_settings()
    for obj, pod in rel.workloads():
        for c in pod["containers"]:
            where = f"{obj['kind']}/{obj['metadata']['name']}"
            role = c.get("args") or []
            checker.expect(
                Path(c.get("command", ["rusk"])[0]).name == "rusk",
                f"{where}: command {c.get('command')} is not rusk",
            )
            done = subprocess.run(
                [rusk, *role, "--help"], check=False, capture_output=True, text=True, timeout=60
            )
            checker.expect(
                done.returncode == 0,
                f"{where}: `rusk {' '.join(role)}` is not a command: {done.stderr.strip()}",
            )
            takes = set(re.findall(r"\[env: ([A-Z0-9_]+)[=\]]", done.stdout))
            if takes:  # clap lists every setting's variable, the global ones too
                for item in c.get("env", []):
                    checker.expect(
                        not item["name"].startswith("RUSK_") or item["name"] in takes | direct,
                        f"{where}: `rusk {' '.join(role)}` takes no {item['name']} "
                        "(not in its --help): it would be ignored",
                    )
            env: dict[str, str] = {}
            for source in c.get("envFrom", []):
                if "configMapRef" in source:
                    env.update(
                        (rel.get("ConfigMap", source["configMapRef"]["name"]) or {}).get("data")
                        or {}
                    )
                if "secretRef" in source:
                    data = (rel.get("Secret", source["secretRef"]["name"]) or {}).get("data") or {}
                    env.update({k: base64.b64decode(v).decode() for k, v in data.items()})
            env.update({e["name"]: str(e["value"]) for e in c.get("env", []) if "value" in e})
            with tempfile.TemporaryDirectory() as tmp:
                root = Path(tmp, "root")
                root.mkdir()
                env.update(
                    RUSK_DATA_DIR=f"{tmp}/data",
                    RUSK_DATA_ROOT=str(root),
                    DATABASE_URL=f"sqlite://{tmp}/rusk.db?mode=rwc",
                    HOME=tmp,
                    PATH=os.environ.get("PATH", "/usr/bin:/bin"),
                )
                done = subprocess.run(
                    [rusk, "migrate"],
                    check=False,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                migrated = checker.expect(
                    done.returncode == 0,
                    f"{where}: rusk refuses the container's settings: {done.stderr.strip()[-500:]}",
                )
                if migrated and role[:1] == ["worker"]:
                    check_worker_probes(c, env, rusk, tmp, where, checker)
                if migrated and role[:1] and role[0] in BALLISTA_ROLES:
                    ballista.setdefault(role[0], (c, dict(env), where))
    if ballista and checker.expect(
        set(ballista) == BALLISTA_ROLES,
        f"only {sorted(ballista)} of the Ballista roles render: a cluster needs both",
    ):
        check_ballista_processes(ballista["scheduler"], ballista["executor"], rusk, checker)


PROBE_PORTS = range(18220, 18240)  # the ports this checker may listen on


def free_port(taken: set[int] | None = None) -> int:
    """A port of PROBE_PORTS nothing listens on, other than those in taken."""
    for port in PROBE_PORTS:
        if port in (taken or set()):
            continue
        with socket.socket() as s:
            # As Rust binds it: a port in TIME_WAIT from the last run is free.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PROBE_PORTS.start}-{PROBE_PORTS.stop - 1}")


def get(url: str) -> int | None:
    """The HTTP status of GET url; None when nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as e:
        return e.code
    except OSError:  # refused, reset, timed out: not listening (yet)
        return None


def check_worker_probes(
    container: dict, env: dict, rusk: str, tmp: str, where: str, checker: Checker
) -> None:
    """Start `rusk worker` as the pod would (its migrated store is the SQLite file in tmp) and
    ask its metrics listener what the kubelet and Prometheus would: each must get 200."""
    paths = {"/metrics", "/healthz", "/readyz"} | {
        (container.get(kind) or {}).get("httpGet", {}).get("path")
        for kind in ("livenessProbe", "readinessProbe", "startupProbe")
    }
    paths.discard(None)
    base = f"http://127.0.0.1:{free_port()}"
    log_path = Path(tmp, "worker.log")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [rusk, "worker"],
            env={**env, "RUSK_METRICS_LISTEN": base.removeprefix("http://")},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        # A hang guard, not a speed check: the listener opens once the store is connected.
        deadline = time.monotonic() + 120
        status = None
        while proc.poll() is None and time.monotonic() < deadline:
            status = get(f"{base}/healthz")
            if status is not None:
                break
            time.sleep(0.2)
        if not checker.expect(
            status is not None,
            f"{where}: `rusk worker` never answered on RUSK_METRICS_LISTEN "
            f"(exit {proc.poll()}): {log_path.read_text().strip()[-500:]}",
        ):
            return
        for path in sorted(paths):
            got = get(base + path)
            checker.expect(
                got == 200,
                f"{where}: `rusk worker` answers GET {path} on RUSK_METRICS_LISTEN with {got}, "
                "not 200",
            )
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=int(env.get("RUSK_SHUTDOWN_GRACE", "30")) + 60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = "killed"
    checker.expect(
        code == 0,
        f"{where}: `rusk worker` did not exit 0 on SIGTERM ({code}): "
        f"{log_path.read_text().strip()[-500:]}",
    )


def tcp_open(port: int) -> bool:
    """Whether something accepts TCP connections on the loopback port (a tcpSocket probe)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5):
            return True
    except OSError:
        return False


def stop(proc: subprocess.Popen, grace: int) -> int | str:
    """SIGTERM, as the kubelet sends it; the exit code, or "killed" after grace seconds."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return "killed"


def check_ballista_processes(
    scheduler: tuple[dict, dict[str, str], str],
    executor: tuple[dict, dict[str, str], str],
    rusk: str,
    checker: Checker,
) -> None:
    """Start `rusk scheduler` and one `rusk executor` with their rendered environments (their
    migrated settings), on loopback ports instead of 0.0.0.0 and the pod IP. The scheduler
    must answer 200 on /healthz and its liveness path at once; the executor must open its
    Flight port (what its tcpSocket probes check), register with the scheduler under
    RUSK_EXECUTOR_HOST and that port, and make $RUSK_DATA_DIR/ballista; then the scheduler's
    /readyz and readiness path must answer 200 (503 before: no executor). Both must stop on
    SIGTERM within the pods' grace (the scheduler may die of the signal: its state is in
    memory anyway)."""
    (sc, senv, swhere), (_, eenv, ewhere) = scheduler, executor
    ports: list[int] = []
    for _ in range(3):
        ports.append(free_port(set(ports)))
    sched_port, flight_port, task_port = ports
    base = f"http://127.0.0.1:{sched_port}"

    def probe_paths(kind: str, default: str) -> set[str]:
        path = (sc.get(kind) or {}).get("httpGet", {}).get("path")
        return {default} | ({path} if path else set())

    grace = int(senv.get("RUSK_SHUTDOWN_GRACE", "30")) + 60
    with tempfile.TemporaryDirectory() as tmp:
        logs = {role: Path(tmp, f"{role}.log") for role in BALLISTA_ROLES}

        def log(role: str) -> str:
            return logs[role].read_text().strip()[-500:]

        def start(role: str, env: dict[str, str]) -> subprocess.Popen:
            with open(logs[role], "w") as out:
                return subprocess.Popen([rusk, role], env=env, stdout=out, stderr=subprocess.STDOUT)

        procs: dict[str, subprocess.Popen] = {}
        try:
            procs["scheduler"] = start(
                "scheduler",
                {
                    **senv,
                    "RUSK_SCHEDULER_LISTEN": f"127.0.0.1:{sched_port}",
                    "RUSK_SCHEDULER_HOST": "127.0.0.1",
                    "RUSK_DATA_DIR": f"{tmp}/scheduler-data",
                },
            )
            # A hang guard, not a speed check.
            deadline = time.monotonic() + 120
            status = None
            while procs["scheduler"].poll() is None and time.monotonic() < deadline:
                status = get(f"{base}/healthz")
                if status is not None:
                    break
                time.sleep(0.2)
            if not checker.expect(
                status is not None,
                f"{swhere}: `rusk scheduler` never answered on RUSK_SCHEDULER_LISTEN "
                f"(exit {procs['scheduler'].poll()}): {log('scheduler')}",
            ):
                return
            for path in sorted(probe_paths("livenessProbe", "/healthz")):
                got = get(base + path)
                checker.expect(
                    got == 200,
                    f"{swhere}: `rusk scheduler` answers its liveness GET {path} on "
                    f"RUSK_SCHEDULER_LISTEN with {got}, not 200",
                )
            data_dir = Path(tmp, "executor-data")
            procs["executor"] = start(
                "executor",
                {
                    **eenv,
                    "RUSK_BALLISTA_URL": f"df://127.0.0.1:{sched_port}",
                    "RUSK_EXECUTOR_LISTEN": f"127.0.0.1:{flight_port}",
                    "RUSK_EXECUTOR_GRPC_PORT": str(task_port),
                    "RUSK_EXECUTOR_HOST": "127.0.0.1",
                    "RUSK_DATA_DIR": str(data_dir),
                },
            )
            deadline = time.monotonic() + 120
            registered = False
            while procs["executor"].poll() is None and time.monotonic() < deadline:
                registered = tcp_open(flight_port) and any(
                    e.get("host") == "127.0.0.1" and e.get("port") == flight_port
                    for e in executors_of(base)
                )
                if registered:
                    break
                time.sleep(0.5)
            if not checker.expect(
                registered,
                f"{ewhere}: `rusk executor` did not open its Flight port and register with the "
                f"scheduler as 127.0.0.1:{flight_port} (exit {procs['executor'].poll()}): "
                f"{log('executor')}",
            ):
                return
            checker.expect(
                (data_dir / "ballista").is_dir(),
                f"{ewhere}: `rusk executor` made no $RUSK_DATA_DIR/ballista for shuffle files",
            )
            for path in sorted(probe_paths("readinessProbe", "/readyz")):
                got = get(base + path)
                checker.expect(
                    got == 200,
                    f"{swhere}: with an executor registered, `rusk scheduler` answers its "
                    f"readiness GET {path} with {got}, not 200",
                )
        finally:
            for role in ("executor", "scheduler"):  # as a release's pods go, executors first
                if role not in procs:
                    continue
                early = procs[role].poll()
                code = stop(procs[role], grace)
                ok = (0, -signal.SIGTERM) if role == "scheduler" else (0,)
                checker.expect(
                    early is None and code in ok,
                    f"{swhere if role == 'scheduler' else ewhere}: `rusk {role}` "
                    + (
                        f"exited by itself ({early})"
                        if early is not None
                        else f"did not stop on SIGTERM ({code})"
                    )
                    + f": {log(role)}",
                )


def executors_of(base: str) -> list[dict]:
    """The executors a scheduler knows (Ballista's REST API, GET /api/executors)."""
    try:
        with urllib.request.urlopen(f"{base}/api/executors", timeout=30) as response:
            found = json.loads(response.read())
    except (OSError, ValueError):
        return []
    return [e for e in found if isinstance(e, dict)] if isinstance(found, list) else []


def check_guards(chart: helm.Chart, checker: Checker) -> None:
    """Values that cannot work must fail the render with a message that says what to set."""
    base = yaml.safe_load((CHART / "ci" / "default-values.yaml").read_text()) or {}
    cases = {
        "the chart's bare defaults (no database)": ({}, "database.url"),
        "a SQLite URL": ({**base, "database": {"url": "sqlite:///x"}}, "postgres"),
        "no shared result store": ({**base, "config": {"resultsUrl": ""}}, "resultsUrl"),
        "two pools with one name": ({**base, "workers": [{"name": "a"}, {"name": "a"}]}, "named"),
        "ballista.defaultEngine: ballista without ballista.enabled": (
            {**base, "ballista": {"defaultEngine": "ballista"}},
            "ballista.enabled",
        ),
        "executor heartbeats not below the scheduler's executor timeout": (
            {**base, "ballista": {"enabled": True, "executors": {"heartbeatSeconds": 30}}},
            "executorTimeoutSeconds",
        ),
        "one port for an executor's Flight and task services": (
            {**base, "ballista": {"enabled": True, "executors": {"grpcPort": 50051}}},
            "grpcPort",
        ),
        "a worker pool named gpu-worker beside gpuWorkers": (
            {**base, "workers": [{"name": "gpu-worker"}], "gpuWorkers": {"enabled": True}},
            "gpu-worker",
        ),
        "an API-port ServiceMonitor without a token": (
            {**base, "metrics": {"apiListener": False, "serviceMonitor": {"enabled": True}}},
            "RUSK_METRICS_TOKEN",
        ),
    }
    for what, (values, needle) in cases.items():
        try:
            chart.render(values, name=RELEASE, namespace=NAMESPACE)
            checker.fail(f"the chart renders {what}; it should refuse")
        except helm.HelmError as e:
            checker.expect(
                needle in str(e), f"refusing {what}, the message does not mention {needle}: {e}"
            )


def check_gpu_worker_values(chart: helm.Chart, checker: Checker) -> None:
    """gpuWorkers as no file of ci/ has it: its defaults (one GPU, RUSK_GPUS=all, no
    RUSK_GPU_MEMORY_LIMIT, no runtimeClassName, the nvidia.com/gpu toleration), device
    numbers and a bare number as gpus, each rendered and checked as Checker.gpu_workers does."""
    base = yaml.safe_load((CHART / "ci" / "default-values.yaml").read_text()) or {}
    cases = {
        "defaults": {"enabled": True},
        'gpus: "0,1"': {"enabled": True, "gpus": "0,1", "gpusPerPod": 2},
        "gpus: 0": {"enabled": True, "gpus": 0},
    }
    for what, gpu_workers in cases.items():
        values = {**base, "gpuWorkers": gpu_workers}
        start = len(checker.failures)
        try:
            release = Release(checker.render(chart, values), chart.merge_values(values))
            checker.gpu_workers(release)
            checker.workers(release)
            checker.pdbs(release)
        except helm.HelmError as e:
            checker.fail(f"helm: {type(e).__name__}: {e}")
        checker.failures[start:] = [f"gpuWorkers {what}: {m}" for m in checker.failures[start:]]


def check_long_release(chart: helm.Chart, checker: Checker) -> None:
    """With the longest release name Helm allows (53), names still fit 63 characters, are
    DNS labels and stay distinct (a cut must not merge two worker pools' names)."""
    release = ("long-release-name-" * 3)[:53].rstrip("-")
    for path in sorted((CHART / "ci").glob("*.yaml")):
        values = yaml.safe_load(path.read_text()) or {}
        values = changed(
            values,
            "workers",
            (values.get("workers") or [{"name": "cpu"}])
            + [{"name": "w" * 29 + "a"}, {"name": "w" * 29 + "b"}],
        )
        seen = set()
        rendered = chart.render(values, name=release, namespace=NAMESPACE)
        for template, text in rendered.items():
            if template.endswith("NOTES.txt"):
                continue
            for doc in filter(None, yaml.safe_load_all(text)):
                name = doc["metadata"]["name"]
                checker.expect(
                    len(name) <= 63 and DNS_LABEL.match(name),
                    f"release {release}: {doc['kind']} name {name!r} is not a DNS label of at most 63 characters",
                )
                checker.expect(
                    (doc["kind"], name) not in seen,
                    f"release {release}: two {doc['kind']}s named {name}",
                )
                seen.add((doc["kind"], name))


def check_docs(chart: helm.Chart, checker: Checker) -> None:
    """Every value in values.yaml is in README.md's table; the schema is draft-07."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    try:
        jsonschema.Draft7Validator.check_schema(schema)
    except jsonschema.SchemaError as e:
        checker.fail(f"values.schema.json is not a valid draft-07 schema: {e.message}")
    checker.expect(
        schema.get("$schema", "").startswith("http://json-schema.org/draft-07/"),
        "values.schema.json does not declare draft-07",
    )
    try:
        chart.validate_schema(chart.values)
    except helm.HelmValuesError as e:
        checker.fail(f"values.yaml does not pass values.schema.json: {e}")
    if not checker.expect((CHART / "README.md").is_file(), "helm/rusk/README.md is missing"):
        return
    readme = (CHART / "README.md").read_text()
    documented = set(re.findall(r"^\|\s*`([^`]+)`\s*\|", readme, re.MULTILINE))

    def leaves(value, prefix=""):
        if isinstance(value, dict) and value:
            for key, sub in value.items():
                yield from leaves(sub, f"{prefix}.{key}" if prefix else key)
        else:
            yield prefix

    # A block documented as a whole (podSecurityContext, a probe) documents its fields.
    for key in leaves(yaml.safe_load((CHART / "values.yaml").read_text())):
        parts = key.split(".")
        covered = any(".".join(parts[:n]) in documented for n in range(1, len(parts) + 1))
        checker.expect(covered, f"README.md's table lacks the value `{key}`")
    stale = {k for k in documented if not k.startswith("workers[]")} - {
        ".".join(k.split(".")[:n])
        for k in leaves(yaml.safe_load((CHART / "values.yaml").read_text()))
        for n in range(1, len(k.split(".")) + 1)
    }
    checker.expect(not stale, f"README.md documents values that do not exist: {sorted(stale)}")


def main() -> int:
    global CHART
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--kube-version",
        default="1.33.0",
        help="recent Kubernetes version to lint and validate against (default "
        "1.33.0); the oldest one Chart.yaml's kubeVersion allows is checked too",
    )
    parser.add_argument(
        "--chart", type=Path, default=CHART, help="chart directory (default helm/rusk)"
    )
    args = parser.parse_args()
    CHART = args.chart.resolve()
    rusk_bin = os.environ.get("RUSK_BIN")
    oldest = re.search(r">=\s*v?([0-9]+\.[0-9]+\.[0-9]+)", (CHART / "Chart.yaml").read_text())
    versions = sorted(
        {args.kube_version} | ({oldest.group(1)} if oldest else set()),
        key=lambda v: [int(x) for x in v.split(".")],
    )
    print(
        f"Helm SDK {helm.helm_sdk_version()}, Kubernetes schemas {', '.join(versions)} "
        f"(kubernetes-validate {metadata.version('kubernetes-validate')})"
    )
    failed = False
    with helm.Chart.load(str(CHART)) as chart:
        if rusk_bin:
            print(f"settings and commands are also checked with {rusk_bin}")
        else:
            print("RUSK_BIN is not set: the rendered settings are not tried on a real rusk")
        general = Checker(args.kube_version)
        check_guards(chart, general)
        check_gpu_worker_values(chart, general)
        check_long_release(chart, general)
        check_docs(chart, general)
        for message in general.failures:
            print(f"  FAIL {message}")
        print(
            f"{'FAIL' if general.failures else 'ok  '} chart: refusals, gpuWorkers variants, long names, "
            "schema and README "
            f"({len(general.failures)} problems)"
        )
        failed |= bool(general.failures)

        files = sorted((CHART / "ci").glob("*.yaml"))
        if not files:
            print("FAIL no values files in helm/rusk/ci/")
            return 1
        for path in files:
            checker = Checker(args.kube_version)
            text = path.read_text()
            values = helm.values_from_yaml(text) if text.strip() else {}
            values = values or {}
            count = 0
            try:
                checker.lint(values)
                checker.schema(chart, values)
                objs = checker.render(chart, values)
                count = len(objs)
                checker.kube_schemas(objs, versions)
                merged = chart.merge_values(values)
                merged["__file"] = path.name
                release = Release(objs, merged)
                checker.semantics(release)
                if rusk_bin:
                    check_binary(release, rusk_bin, checker)
            except helm.HelmError as e:
                checker.fail(f"helm: {type(e).__name__}: {e}")
            except (KeyError, TypeError, IndexError, ValueError) as e:
                checker.fail(f"a manifest lacks what the checks expect: {type(e).__name__}: {e}")
            for note in sorted(set(checker.notes)):
                print(f"  note {note}")
            for warning in checker.warnings:
                print(f"  warn {warning}")
            for message in checker.failures:
                print(f"  FAIL {message}")
            kinds: dict[str, int] = {}
            if checker.failures:
                print(f"FAIL ci/{path.name}: {len(checker.failures)} problems")
            else:
                for obj in objs:
                    kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
                summary = ", ".join(f"{n} {k}" for k, n in sorted(kinds.items()))
                print(
                    f"ok   ci/{path.name}: {count} manifests ({summary}), "
                    f"{len(checker.warnings)} lint warnings"
                )
            failed |= bool(checker.failures)
    print("helm/check.py: FAILED" if failed else "helm/check.py: all checks passed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
