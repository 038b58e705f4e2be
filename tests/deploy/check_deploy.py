#!/usr/bin/python3
"""Checks of deploy/: what can be checked without Docker or a cluster.

    check_deploy.py CHECK --repo DIR [--exceed BIN]

One CHECK per ctest (tests/deploy/CMakeLists.txt, label deploy):

  compose     deploy/compose/compose.yaml parsed: two Exceed services built
              from deploy/container/Dockerfile, Redis with AOF, three
              sentinels, nginx the only service with published ports; and
              cluster.yaml: the same on a nine-node Redis Cluster.
  k8s         deploy/k8s/*.yaml parsed: Deployment probes (/readyz,
              /healthz), graceful termination, non-root, read-only root fs,
              Service, PDB, ConfigMap, Secret, kustomization; the
              cluster/ overlay and its redis-cluster chart values.
  container   deploy/container/Dockerfile: debian:12 stages, non-root USER,
              EXPOSE, HEALTHCHECK on /healthz, runtime without -dev packages.
  systemd     `systemd-analyze verify` of deploy/systemd/exceed.service (a
              copy pointing at the built binary), its hardening, and
              `systemd-analyze security --offline` exposure <= 2.0.
  nginx       `nginx -t` on deploy/nginx/exceed.conf (upstreams on loopback,
              a throwaway certificate), then nginx running that config in
              front of the real server: https GET, and a WebSocket upgrade
              through the proxy answered 101.
  prometheus  `promtool check rules` and `promtool test rules` of
              deploy/prometheus/.
  redis       deploy/compose/redis/*.conf loaded by a real redis-server (a
              primary and a replica) and a real sentinel: AOF on, noeviction,
              min-replicas-to-write, and the sentinel names the primary.
  cluster     deploy/compose/redis/cluster.conf (with redis.conf) loaded by
              nine real redis-server nodes, formed into a cluster by
              redis-cli --cluster create as create-cluster.sh does; the
              real `exceed user add` then stores on it with the settings of
              deploy/compose/cluster.yaml.
  config      the real server started with deploy/k8s/configmap.yaml's
              exceed.toml: it loads, listens, answers /healthz and /readyz,
              and stops with exit code 0 on SIGTERM.

Exits 0 when every assertion holds; otherwise prints each failure and exits 1.
"""

import argparse
import base64
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

try:
    import yaml
except ImportError:  # scripts/setup installs python3-yaml
    print("python3-yaml is missing: run scripts/setup", file=sys.stderr)
    sys.exit(1)

FAILURES = []


def check(cond, what):
    if cond:
        print(f"ok   {what}")
    else:
        print(f"FAIL {what}")
        FAILURES.append(what)
    return cond


def need(tool):
    path = shutil.which(tool) or (f"/usr/sbin/{tool}" if os.path.exists(f"/usr/sbin/{tool}") else None)
    if not path:
        print(f"FAIL {tool} not found: run scripts/setup", file=sys.stderr)
        sys.exit(1)
    return path


def free_ports(n, offset=None):
    """n distinct free ports below the kernel's ephemeral range: a port from
    bind(0) is an ephemeral one, which an outgoing connection (redis-cli, a
    replica, another test) can take before the process meant for it binds.
    With offset, port + offset is free and below that range too (a Redis
    Cluster node's bus listens on its port + 10000)."""
    import random
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError):
        low = 32768
    hi = low - (offset or 0)
    lo = max(1024, hi - 12000)

    def free(port):
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
        return True

    ports = []
    while len(ports) < n:
        port = random.randrange(lo, hi)
        taken = {q for p in ports for q in (p, p + (offset or 0), p - (offset or 0))}
        if port in taken or port + (offset or 0) in taken or not free(port) or (offset and not free(port + offset)):
            continue
        ports.append(port)
    return ports


def load_yaml_docs(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


class Proc:
    """A child process whose output is read line by line until a line shows it is ready."""

    def __init__(self, args, env=None, ready=None, timeout=20):
        self.args = args
        self.p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, text=True,
                                  start_new_session=True)
        self.lines = []
        if ready:
            self.wait_for(ready, timeout)

    def wait_for(self, pattern, timeout=20):
        # readline blocks; the deadline is enforced by the process exiting or
        # by the alarm below.
        def on_alarm(*_):
            raise TimeoutError(f"{self.args[0]}: no line matching {pattern!r} within {timeout}s")
        old = signal.signal(signal.SIGALRM, on_alarm)
        signal.alarm(timeout)
        try:
            while True:
                line = self.p.stdout.readline()
                if not line:
                    raise RuntimeError(f"{self.args[0]} exited ({self.p.wait()}):\n" + "".join(self.lines[-20:]))
                self.lines.append(line)
                if re.search(pattern, line):
                    return line
        finally:
            signal.alarm(0)
            signal.signal(signal.SIGALRM, old)

    def stop(self, sig=signal.SIGTERM, timeout=15):
        if self.p.poll() is None:
            self.p.send_signal(sig)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        rest = self.p.stdout.read() if self.p.stdout else ""
        self.lines.extend(rest.splitlines(keepends=True))
        return self.p.returncode


class Procs:
    """The processes a check started; stop_all() ends each of them, by its pid."""

    def __init__(self):
        self.items = []

    def start(self, args, env=None, ready=None, timeout=20):
        # Registered before waiting, so a process that never gets ready is still stopped.
        p = Proc(args, env=env)
        self.items.append(p)
        if ready:
            p.wait_for(ready, timeout)
        return p

    def stop_all(self):
        for p in reversed(self.items):
            p.stop()


# ------------------------------------------------------------------ compose

def check_compose(repo, _args):
    path = os.path.join(repo, "deploy/compose/compose.yaml")
    doc = load_yaml_docs(path)[0]
    services = doc.get("services", {})

    exceed = {n: s for n, s in services.items() if "deploy/container/Dockerfile" in str(s.get("build", ""))}
    check(len(exceed) >= 2, f"compose: two Exceed services built from deploy/container/Dockerfile ({sorted(exceed)})")
    for name, s in exceed.items():
        env = s.get("environment", {})
        check("EXCEED_REDIS_SENTINELS" in env and len(env["EXCEED_REDIS_SENTINELS"].split(",")) == 3,
              f"compose: {name} finds Redis through the three sentinels")
        check("EXCEED_AUTH_TOKEN_SECRET" not in env, f"compose: {name} keeps the token secret out of compose.yaml")
        check(s.get("stop_signal", "SIGTERM") == "SIGTERM", f"compose: {name} is stopped with SIGTERM (drains)")
        grace = str(s.get("stop_grace_period", "10s"))
        check(grace.endswith("s") and int(grace[:-1]) >= 15, f"compose: {name} stop_grace_period {grace} >= 15s")
        check(s.get("read_only") is True, f"compose: {name} has a read-only root file system")
        check("ALL" in s.get("cap_drop", []), f"compose: {name} drops every capability")
        test = " ".join(s.get("healthcheck", {}).get("test", []))
        check("/readyz" in test or "/healthz" in test, f"compose: {name} has a health check on /readyz or /healthz")
        check(not s.get("ports"), f"compose: {name} publishes no port (only nginx does)")

    redis_nodes = {n: s for n, s in services.items() if "start-redis.sh" in str(s.get("entrypoint", ""))}
    check(len(redis_nodes) >= 2, f"compose: a Redis primary and replicas ({sorted(redis_nodes)})")
    replicas = [n for n, s in redis_nodes.items() if s.get("environment", {}).get("REDIS_REPLICAOF")]
    check(len(replicas) == len(redis_nodes) - 1, "compose: exactly one Redis node starts as primary")
    for name, s in redis_nodes.items():
        check(any(str(v).startswith("./redis/redis.conf:") for v in s.get("volumes", [])),
              f"compose: {name} uses redis/redis.conf")
        check(any(":/data" in str(v) and not str(v).startswith(".") for v in s.get("volumes", [])),
              f"compose: {name} keeps /data (AOF) in a named volume")
    sentinels = {n: s for n, s in services.items() if "start-sentinel.sh" in str(s.get("entrypoint", ""))}
    for name, s in {**redis_nodes, **sentinels}.items():
        check(s.get("user") not in (None, "root", "0"), f"compose: {name} runs as an unprivileged user")
    check(len(sentinels) == 3, f"compose: three Redis Sentinels ({sorted(sentinels)})")

    with open(os.path.join(repo, "deploy/compose/redis/redis.conf")) as f:
        conf = redis_conf(f.read())
    check(conf.get("appendonly") == "yes", "compose: redis.conf has appendonly yes")
    check(conf.get("appendfsync") in ("everysec", "always"), "compose: redis.conf appendfsync everysec or always")
    check(conf.get("maxmemory-policy") == "noeviction", "compose: redis.conf never evicts (noeviction)")
    with open(os.path.join(repo, "deploy/compose/redis/sentinel.conf")) as f:
        sconf = f.read()
    m = re.search(r"^sentinel monitor (\S+) (\S+) (\d+) (\d+)", sconf, re.M)
    check(m and m.group(4) == "2", "compose: sentinel.conf monitors the primary with quorum 2 (of 3)")
    if m:
        for name, s in exceed.items():
            check(s.get("environment", {}).get("EXCEED_REDIS_MASTER_NAME") == m.group(1),
                  f"compose: {name} asks for the master name the sentinels monitor ({m.group(1)})")

    nginx = {n: s for n, s in services.items() if "nginx" in n}
    check(len(nginx) == 1, "compose: one nginx service")
    for name, s in nginx.items():
        ports = [str(p) for p in s.get("ports", [])]
        check(any(p.endswith(":443") for p in ports), f"compose: {name} publishes 443")
        ctx = os.path.normpath(os.path.join(repo, "deploy/compose", s.get("build", {}).get("context", "")))
        with open(os.path.join(ctx, "Dockerfile")) as f:
            check("exceed.conf" in f.read(), f"compose: {name} image carries deploy/nginx/exceed.conf")
    published = [n for n, s in services.items() if s.get("ports")]
    check(published == list(nginx), f"compose: only nginx publishes ports ({published})")

    for svc_file in ("redis/start-redis.sh", "redis/start-sentinel.sh", "redis/start-cluster-node.sh",
                     "redis/create-cluster.sh"):
        r = subprocess.run(["sh", "-n", os.path.join(repo, "deploy/compose", svc_file)], capture_output=True, text=True)
        check(r.returncode == 0, f"compose: {svc_file} is valid sh {r.stderr.strip()}")
    check_compose_cluster(repo)


def check_compose_cluster(repo):
    doc = load_yaml_docs(os.path.join(repo, "deploy/compose/cluster.yaml"))[0]
    services = doc.get("services", {})
    nodes = {n: s for n, s in services.items() if "start-cluster-node.sh" in str(s.get("entrypoint", ""))}
    check(len(nodes) == 9, f"cluster.yaml: nine Redis Cluster nodes ({sorted(nodes)})")
    for name, s in nodes.items():
        vols = [str(v) for v in s.get("volumes", [])]
        check(any(v.startswith("./redis/cluster.conf:") for v in vols) and
              any(v.startswith("./redis/redis.conf:") for v in vols),
              f"cluster.yaml: {name} uses redis/cluster.conf and the redis.conf it includes")
        check(any(v.endswith(":/data") and not v.startswith(".") for v in vols),
              f"cluster.yaml: {name} keeps /data (AOF, nodes.conf) in a named volume")
        check(s.get("user") not in (None, "root", "0"), f"cluster.yaml: {name} runs as an unprivileged user")
        check(s.get("environment", {}).get("REDIS_ANNOUNCE_HOST") == name, f"cluster.yaml: {name} announces its name")
    create = {n: s for n, s in services.items() if "create-cluster.sh" in str(s.get("entrypoint", ""))}
    check(len(create) == 1, "cluster.yaml: one job forms the cluster (redis/create-cluster.sh)")
    with open(os.path.join(repo, "deploy/compose/redis/create-cluster.sh")) as f:
        script = f.read()
    listed = re.search(r'^nodes="([^"]+)"', script, re.M)
    check(listed and sorted(listed.group(1).split()) == sorted(nodes),
          "cluster.yaml: create-cluster.sh forms the cluster of exactly the node services")
    exceed = {n: s for n, s in services.items() if "deploy/container/Dockerfile" in str(s.get("build", ""))}
    check(len(exceed) >= 2, f"cluster.yaml: two Exceed services ({sorted(exceed)})")
    for name, s in exceed.items():
        env = s.get("environment", {})
        seeds = [x.split(":")[0] for x in str(env.get("EXCEED_REDIS_CLUSTER", "")).split(",") if x]
        check(seeds and all(x in nodes for x in seeds), f"cluster.yaml: {name} names cluster nodes as seeds ({seeds})")
        check(re.search(r"\{[^}]+\}", str(env.get("EXCEED_REDIS_PREFIX", ""))),
              f"cluster.yaml: {name}'s key prefix holds a hash tag")
        check("EXCEED_REDIS_SENTINELS" not in env, f"cluster.yaml: {name} has no sentinels")
        check(s.get("read_only") is True and "ALL" in s.get("cap_drop", []),
              f"cluster.yaml: {name} read-only, no capabilities")
        check("cluster-create" in s.get("depends_on", {}), f"cluster.yaml: {name} starts after the cluster is formed")
        check(not s.get("ports"), f"cluster.yaml: {name} publishes no port")
    published = [n for n, s in services.items() if s.get("ports")]
    check(published == ["nginx"], f"cluster.yaml: only nginx publishes ports ({published})")
    check(doc.get("networks", {}).get("backend", {}).get("internal") is True,
          "cluster.yaml: Redis and Exceed are on an internal network")


def redis_conf(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            k, _, v = line.partition(" ")
            out[k.lower()] = v.strip()
    return out


# ---------------------------------------------------------------------- k8s

def check_k8s(repo, _args):
    k8s = os.path.join(repo, "deploy/k8s")
    objs = {}
    for name in sorted(os.listdir(k8s)):
        if name.endswith(".yaml") and name not in ("redis-values.yaml", "kustomization.yaml"):
            for d in load_yaml_docs(os.path.join(k8s, name)):
                objs.setdefault(d["kind"], []).append((name, d))

    deps = objs.get("Deployment", [])
    check(len(deps) == 1, "k8s: one Deployment")
    if deps:
        _, dep = deps[0]
        spec = dep["spec"]
        pod = spec["template"]["spec"]
        labels = spec["template"]["metadata"]["labels"]
        check(spec.get("replicas", 1) >= 2, "k8s: Deployment runs at least two pods")
        ru = spec.get("strategy", {}).get("rollingUpdate", {})
        check(ru.get("maxUnavailable") == 0, "k8s: a rolling update never takes a pod down before its successor is ready")
        c = pod["containers"][0]
        rp = c.get("readinessProbe", {}).get("httpGet", {})
        lp = c.get("livenessProbe", {}).get("httpGet", {})
        check(rp.get("path") == "/readyz", "k8s: readiness probe GET /readyz")
        check(lp.get("path") == "/healthz", "k8s: liveness probe GET /healthz")
        psc = pod.get("securityContext", {})
        csc = c.get("securityContext", {})
        check(psc.get("runAsNonRoot") is True or csc.get("runAsNonRoot") is True, "k8s: runAsNonRoot")
        check(int(psc.get("runAsUser", csc.get("runAsUser", 0))) > 0, "k8s: runs as a numeric non-zero uid")
        check(csc.get("readOnlyRootFilesystem") is True, "k8s: read-only root file system")
        check(csc.get("allowPrivilegeEscalation") is False, "k8s: no privilege escalation")
        check("ALL" in csc.get("capabilities", {}).get("drop", []), "k8s: every capability dropped")
        res = c.get("resources", {})
        check(res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory") and
              res.get("limits", {}).get("memory"), "k8s: cpu/memory requests and a memory limit")
        pre = c.get("lifecycle", {}).get("preStop", {})
        pre_s = 0
        if "exec" in pre:
            cmd = pre["exec"]["command"]
            check(os.path.basename(cmd[0]) == "sleep", "k8s: preStop pauses before SIGTERM")
            pre_s = int(cmd[-1])
        elif "sleep" in pre:
            pre_s = int(pre["sleep"]["seconds"])
        check(pre_s > 0, f"k8s: preStop lets endpoints drop the pod first ({pre_s}s)")
        grace = pod.get("terminationGracePeriodSeconds", 30)
        # The ConfigMap's shutdown_grace_s (the server's drain) + last writes.
        toml_text = configmap_toml(objs)
        m = re.search(r"^shutdown_grace_s\s*=\s*(\d+)", toml_text, re.M)
        drain = int(m.group(1)) if m else 5
        check(grace >= pre_s + drain + 5,
              f"k8s: terminationGracePeriodSeconds {grace} >= preStop {pre_s} + drain {drain} + 5")
        env_from = [e.get("secretRef", {}).get("name") for e in c.get("envFrom", [])]
        mounts = {v["name"] for v in c.get("volumeMounts", [])}
        cm_vols = {v["name"]: v["configMap"]["name"] for v in pod.get("volumes", []) if "configMap" in v}
        check(any(v in mounts for v in cm_vols), "k8s: the ConfigMap is mounted")
        args = " ".join(c.get("args", []))
        check("--config" in args, "k8s: the server reads the mounted exceed.toml")

        secrets = objs.get("Secret", [])
        check(len(secrets) == 1 and secrets[0][1]["metadata"]["name"] in env_from,
              "k8s: the Secret is passed as environment (envFrom)")
        if secrets:
            keys = set(secrets[0][1].get("stringData", {})) | set(secrets[0][1].get("data", {}))
            for k in ("EXCEED_AUTH_TOKEN_SECRET", "EXCEED_AUTH_IDENTITY_SECRET", "EXCEED_METRICS_TOKEN", "EXCEED_REDIS_URL"):
                check(k in keys, f"k8s: Secret carries {k}")
            check(not secrets[0][1].get("stringData", {}).get("EXCEED_AUTH_TOKEN_SECRET"),
                  "k8s: the example Secret has no usable token secret (the server refuses to start)")
        check(re.search(r"^public\s*=\s*false", toml_text, re.M),
              "k8s: /metrics needs the token (the Service also carries public traffic)")
        cms = objs.get("ConfigMap", [])
        check(any(d["metadata"]["name"] in cm_vols.values() for _, d in cms), "k8s: the mounted ConfigMap exists")
        check("token_secret" not in toml_text and "identity_secret" not in toml_text,
              "k8s: no secret in the ConfigMap")

        svcs = objs.get("Service", [])
        check(any(all(labels.get(k) == v for k, v in d["spec"]["selector"].items()) for _, d in svcs),
              "k8s: a Service selects the pods")
        check(all(d["spec"].get("sessionAffinity", "None") == "None" for _, d in svcs),
              "k8s: no session affinity (clients resume on any pod)")
        pdbs = objs.get("PodDisruptionBudget", [])
        check(len(pdbs) == 1 and all(labels.get(k) == v for k, v in pdbs[0][1]["spec"]["selector"]["matchLabels"].items()),
              "k8s: a PodDisruptionBudget covers the pods")
        if pdbs:
            check("maxUnavailable" in pdbs[0][1]["spec"] or "minAvailable" in pdbs[0][1]["spec"],
                  "k8s: the PDB sets maxUnavailable or minAvailable")

    kust = load_yaml_docs(os.path.join(k8s, "kustomization.yaml"))[0]
    for r in kust.get("resources", []):
        check(os.path.exists(os.path.join(k8s, r)), f"k8s: kustomization resource {r} exists")
    check(not any("secret" in r for r in kust.get("resources", [])), "k8s: kustomization applies no example Secret")

    values = load_yaml_docs(os.path.join(k8s, "redis-values.yaml"))[0]
    check(values.get("sentinel", {}).get("enabled") is True, "k8s: Redis chart values enable Sentinel")
    common = redis_conf(values.get("commonConfiguration", ""))
    check(common.get("appendonly") == "yes", "k8s: Redis chart values turn AOF on")
    check(common.get("maxmemory-policy") == "noeviction", "k8s: Redis chart values never evict")
    m = re.search(r'master_name\s*=\s*"([^"]+)"', configmap_toml(objs))
    check(m and m.group(1) == values["sentinel"].get("masterSet"),
          "k8s: the ConfigMap's master_name is the chart's sentinel.masterSet")
    with open(os.path.join(k8s, "README.md")) as f:
        readme = f.read()
    check("bitnami" in readme.lower() and "redis-operator" in readme.lower(),
          "k8s: README names the Redis chart/operator to use")
    check_k8s_cluster(k8s, objs)


def check_k8s_cluster(k8s, objs):
    """deploy/k8s/cluster: the base with a cluster's Redis settings."""
    d = os.path.join(k8s, "cluster")
    kust = load_yaml_docs(os.path.join(d, "kustomization.yaml"))[0]
    check(kust.get("resources") == [".."], "k8s cluster: the overlay builds on deploy/k8s")
    patched = {}
    for p in kust.get("patches", []):
        check(os.path.exists(os.path.join(d, p["path"])), f"k8s cluster: patch {p['path']} exists")
        for doc in load_yaml_docs(os.path.join(d, p["path"])):
            if doc.get("kind") == "Deployment":
                for c in doc["spec"]["template"]["spec"]["containers"]:
                    patched.update({e["name"]: e.get("value") for e in c.get("env", [])})
    names = {dep["metadata"]["name"] for _, dep in objs.get("Deployment", [])}
    targets = {doc["metadata"]["name"] for p in kust.get("patches", [])
               for doc in load_yaml_docs(os.path.join(d, p["path"])) if doc.get("kind") == "Deployment"}
    check(re.search(r"\{[^}]+\}", patched.get("EXCEED_REDIS_PREFIX") or ""),
          f"k8s cluster: the pods' key prefix holds a hash tag ({patched.get('EXCEED_REDIS_PREFIX')})")
    check(patched.get("EXCEED_REDIS_SENTINELS") == "", "k8s cluster: the ConfigMap's sentinels are cleared")
    check(targets and targets <= names, f"k8s cluster: the patch names the base's Deployment ({sorted(targets)})")
    secrets = objs.get("Secret", [])
    check(secrets and "EXCEED_REDIS_CLUSTER" in secrets[0][1].get("stringData", {}),
          "k8s cluster: the example Secret carries EXCEED_REDIS_CLUSTER (the seeds, with the password)")
    values = load_yaml_docs(os.path.join(d, "redis-cluster-values.yaml"))[0]
    check(values.get("cluster", {}).get("nodes") == 9 and values.get("cluster", {}).get("replicas") == 2,
          "k8s cluster: redis-cluster chart with three primaries and two replicas each")
    conf = redis_conf(values.get("redis", {}).get("configmap", ""))
    check(conf.get("appendonly") == "yes", "k8s cluster: AOF on")
    check(conf.get("maxmemory-policy") == "noeviction", "k8s cluster: never evicts")
    check(conf.get("min-replicas-to-write") == "1", "k8s cluster: min-replicas-to-write 1")
    check(values.get("persistence", {}).get("enabled") is True, "k8s cluster: persistent volumes")


def configmap_toml(objs):
    for _, d in objs.get("ConfigMap", []):
        if "exceed.toml" in d.get("data", {}):
            return d["data"]["exceed.toml"]
    return ""


# ---------------------------------------------------------------- container

def check_container(repo, _args):
    path = os.path.join(repo, "deploy/container/Dockerfile")
    with open(path) as f:
        text = f.read()
    # Join continuation lines, drop comments.
    logical = []
    for line in re.sub(r"\\\n", " ", text).splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            logical.append(line.strip())
    stages = []
    for line in logical:
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            stages.append({"from": rest.split()[0], "lines": []})
        elif stages:
            stages[-1]["lines"].append((word.upper(), rest))
    check(len(stages) >= 2, f"container: multi-stage ({len(stages)} stages)")
    check(all(s["from"].startswith("debian:12") or s["from"].startswith("debian:bookworm") for s in stages),
          "container: every stage on Debian 12")
    build, runtime = stages[0], stages[-1]

    # The build stage installs scripts/setup's build set.
    with open(os.path.join(repo, "scripts/setup")) as f:
        setup = f.read()
    array = setup[setup.index("packages=("):setup.index("\n)", setup.index("packages=("))]
    listed = re.findall(r"[\w.+-]+", re.sub(r"#.*", "", array))
    # The server's build set: the toolchain and the -dev packages (those of
    # the fuzzing toolchain excepted), plus Catch2.
    build_set = [p for p in listed
                 if p in ("build-essential", "cmake", "ninja-build", "pkgconf", "catch2")
                 or (p.endswith("-dev") and "clang" not in p and "llvm" not in p)]
    build_run = " ".join(r for w, r in build["lines"] if w == "RUN")
    missing = [p for p in build_set if p not in build_run.split()]
    check(not missing, f"container: build stage installs the build set of scripts/setup (missing: {missing})")
    check("cmake --build" in build_run and "--target exceed" in build_run, "container: build stage builds exceed")

    rt_run = " ".join(r for w, r in runtime["lines"] if w == "RUN")
    check(not re.search(r"\S+-dev\b", rt_run) and "build-essential" not in rt_run,
          "container: runtime stage installs no -dev packages or compilers")
    check(any(w == "COPY" and "--from=" in r for w, r in runtime["lines"]), "container: runtime copies the binary from the build stage")
    users = [r for w, r in runtime["lines"] if w == "USER"]
    check(users and users[-1].split(":")[0] not in ("root", "0"), f"container: runs as a non-root USER ({users})")
    check(users and users[-1].split(":")[0].isdigit(), "container: USER is numeric (runAsNonRoot can verify it)")
    check(any(w == "EXPOSE" and "8080" in r for w, r in runtime["lines"]), "container: EXPOSE 8080")
    hc = [r for w, r in runtime["lines"] if w == "HEALTHCHECK"]
    check(hc and "/healthz" in hc[0], "container: HEALTHCHECK on /healthz")
    hc_tool = hc[0].split("CMD", 1)[1].split()[0] if hc and "CMD" in hc[0] else ""
    check(hc_tool in rt_run.split(), f"container: the health check's tool ({hc_tool}) is installed in the runtime stage")
    check(any(w == "STOPSIGNAL" and "SIGTERM" in r for w, r in runtime["lines"]), "container: STOPSIGNAL SIGTERM")
    env = " ".join(r for w, r in runtime["lines"] if w == "ENV")
    check("TOKEN_SECRET" not in env, "container: no secret baked into the image")
    check("0.0.0.0:8080" in env, "container: listens on every address inside the container")

    # The runtime packages cover every shared library the built binary links.
    exe = _args.exceed
    if exe and shutil.which("ldd") and shutil.which("dpkg"):
        libs = re.findall(r"=> (/\S+)", subprocess.run(["ldd", exe], capture_output=True, text=True).stdout)
        pkgs = set()
        for lib in libs:
            real = os.path.realpath(lib)
            r = subprocess.run(["dpkg", "-S", real], capture_output=True, text=True)
            if r.returncode != 0:
                r = subprocess.run(["dpkg", "-S", lib], capture_output=True, text=True)
            if r.returncode == 0:
                pkgs.add(r.stdout.split(":")[0])
        base = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g", "libzstd1", "libc6-dev"}
        # A sanitizer build (scripts/test --sanitize) links their runtimes; the image never does.
        sanitizers = re.compile(r"^lib(asan|ubsan|lsan|tsan)\d*$")
        missing = sorted(p for p in pkgs - base if p not in rt_run.split() and not sanitizers.match(p))
        check(not missing, f"container: runtime stage installs the packages of every linked library (missing: {missing})")
    # Paths the COPY lines take from the context exist.
    for w, r in build["lines"] + runtime["lines"]:
        if w == "COPY" and "--from=" not in r:
            for src in r.split()[:-1]:
                check(os.path.exists(os.path.join(repo, src)), f"container: COPY source {src} exists")


# ------------------------------------------------------------------ systemd

def check_systemd(repo, args):
    sa = need("systemd-analyze")
    src = os.path.join(repo, "deploy/systemd/exceed.service")
    with open(src) as f:
        unit = f.read()
    settings = {}
    for line in unit.splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            settings.setdefault(k.strip(), []).append(v.strip())

    def one(k):
        return settings.get(k, [""])[-1]

    check(one("DynamicUser") == "yes" or one("User") not in ("", "root"), "systemd: runs as its own user")
    check(one("NoNewPrivileges") == "yes", "systemd: NoNewPrivileges")
    check(one("ProtectSystem") == "strict", "systemd: ProtectSystem=strict")
    check(one("ProtectHome") in ("yes", "read-only", "tmpfs"), "systemd: ProtectHome")
    check(one("PrivateTmp") == "yes", "systemd: PrivateTmp")
    check("CapabilityBoundingSet" in settings, "systemd: capability bounding set")
    check(one("KillSignal") in ("", "SIGTERM"), "systemd: stopped with SIGTERM (the server drains)")
    stop = one("TimeoutStopSec")
    check(stop.isdigit() and int(stop) >= 15, f"systemd: TimeoutStopSec {stop} leaves time to drain")
    check("2" in one("RestartPreventExitStatus").split(), "systemd: a config error (exit 2) does not restart in a loop")
    check(os.path.exists(os.path.join(repo, "deploy/systemd/exceed.env")), "systemd: sample environment file")
    with open(os.path.join(repo, "deploy/systemd/exceed.env")) as f:
        env_keys = [l.split("=")[0] for l in f if re.match(r"^EXCEED_\w+=", l)]
    check("EXCEED_AUTH_TOKEN_SECRET" in env_keys, "systemd: the environment file sets EXCEED_AUTH_TOKEN_SECRET")

    with tempfile.TemporaryDirectory() as tmp:
        env_file = os.path.join(tmp, "exceed.env")
        shutil.copy(os.path.join(repo, "deploy/systemd/exceed.env"), env_file)
        copy = unit.replace("/usr/local/bin/exceed", os.path.abspath(args.exceed))
        copy = re.sub(r"^EnvironmentFile=.*$", f"EnvironmentFile={env_file}", copy, flags=re.M)
        path = os.path.join(tmp, "exceed.service")
        with open(path, "w") as f:
            f.write(copy)
        r = subprocess.run([sa, "verify", path], capture_output=True, text=True, cwd=tmp)
        out = (r.stdout + r.stderr).strip()
        # verify exits 0 even for settings it ignores: any message is a failure.
        check(r.returncode == 0 and not out, f"systemd: systemd-analyze verify is clean {out}")
        r = subprocess.run([sa, "security", "--offline=yes", "--threshold=20", path], capture_output=True, text=True,
                           cwd=tmp)
        m = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
        check(r.returncode == 0 and m, f"systemd: security exposure {m.group(1) if m else '?'} <= 2.0")


# -------------------------------------------------------------------- nginx

def nginx_copy(repo, tmp, upstream_ports, listen_http=None, listen_https=None):
    tls = os.path.join(tmp, "tls")
    os.makedirs(tls, exist_ok=True)
    os.makedirs(os.path.join(tmp, "logs"), exist_ok=True)
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                    "-keyout", os.path.join(tls, "privkey.pem"), "-out", os.path.join(tls, "fullchain.pem")],
                   check=True, capture_output=True)
    with open(os.path.join(repo, "deploy/nginx/exceed.conf")) as f:
        conf = f.read()
    hosts = re.findall(r"^\s*server (exceed-\d+):8080", conf, re.M)
    for host, port in zip(hosts, upstream_ports):
        conf = conf.replace(f"server {host}:8080", f"server 127.0.0.1:{port}")
    conf = conf.replace("/etc/nginx/tls/", tls + "/")
    if listen_http:
        conf = re.sub(r"listen (\[::\]:)?80;", lambda m: "" if m.group(1) else f"listen 127.0.0.1:{listen_http};", conf)
        conf = re.sub(r"listen (\[::\]:)?443 ssl http2;",
                      lambda m: "" if m.group(1) else f"listen 127.0.0.1:{listen_https} ssl http2;", conf)
    with open(os.path.join(tmp, "exceed.conf"), "w") as f:
        f.write(conf)
    main = os.path.join(tmp, "nginx.conf")
    with open(main, "w") as f:
        f.write(f"pid {tmp}/nginx.pid;\nerror_log {tmp}/logs/error.log;\nworker_processes 1;\n"
                f"daemon off;\nevents {{}}\nhttp {{\n  access_log off;\n  include {tmp}/exceed.conf;\n}}\n")
    return hosts, main


def check_nginx(repo, args):
    nginx = need("nginx")
    need("openssl")
    with tempfile.TemporaryDirectory() as tmp:
        hosts, main = nginx_copy(repo, tmp, free_ports(2))
        check(len(hosts) == 2, f"nginx: upstream lists the two Exceed processes ({hosts})")
        r = subprocess.run([nginx, "-t", "-p", tmp, "-e", f"{tmp}/logs/error.log", "-c", main],
                           capture_output=True, text=True)
        check(r.returncode == 0 and "test is successful" in r.stderr, f"nginx: nginx -t {r.stderr.strip()}")
        with open(os.path.join(repo, "deploy/nginx/exceed.conf")) as f:
            conf = f.read()
        ws = re.search(r"location = /ws \{(.*?)\n    \}", conf, re.S)
        body = ws.group(1) if ws else ""
        check("proxy_set_header Upgrade    $http_upgrade" in body or re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade", body),
              "nginx: /ws passes Upgrade")
        check(re.search(r"proxy_set_header\s+Connection\s+\$exceed_connection", body), "nginx: /ws passes Connection: upgrade")
        m = re.search(r"proxy_read_timeout\s+(\d+)s", body)
        check(m and int(m.group(1)) > 60, "nginx: /ws read timeout longer than the server's 60 s idle timeout")
        directives = re.sub(r"#.*", "", conf)
        check(not re.search(r"\b(ip_hash|hash|sticky)\b", directives),
              "nginx: no sticky sessions (clients resume on any process)")

    # The config at work: nginx in front of a real server and Redis.
    with tempfile.TemporaryDirectory() as tmp:
        redis_port, exceed_port, http_port, https_port = free_ports(4)
        procs = Procs()
        redis = procs.start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no", "--dir", tmp], ready=r"Ready to accept connections")
        env = {k: v for k, v in os.environ.items() if not k.startswith("EXCEED_")}
        env.update(EXCEED_AUTH_TOKEN_SECRET="deploy-test-secret-0123456789",
                   EXCEED_REDIS_URL=f"redis://127.0.0.1:{redis_port}",
                   EXCEED_SERVER_LISTEN=f"127.0.0.1:{exceed_port}",
                   EXCEED_SERVER_WEB_ROOT=os.path.join(repo, "web"),
                   EXCEED_ASSESSMENT_RULES_FILE=os.path.join(repo, "config/assessment.toml"),
                   EXCEED_SERVER_ALLOW_MISSING_ORIGIN="false")
        try:
            server = procs.start([args.exceed, "serve"], env=env, ready=r"listening on")
            wait_serving(exceed_port, server)
            # Both upstreams on the one server: nginx needs resolvable upstreams.
            _, main = nginx_copy(repo, tmp, [exceed_port, exceed_port], http_port, https_port)
            proxy = procs.start([nginx, "-p", tmp, "-e", f"{tmp}/logs/error.log", "-c", main])
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            wait_port(https_port, proxy)
            status, headers, _ = https_get(https_port, "/", ctx)
            check(status == 200, f"nginx: GET / through nginx answers 200 ({status})")
            check("strict-transport-security" in headers, "nginx: HSTS on https")
            status, _, _ = https_get(https_port, "/healthz", ctx)
            check(status == 404, f"nginx: /healthz is not exposed through the proxy ({status})")
            status, headers, reply = ws_handshake(https_port, ctx, origin=f"https://127.0.0.1:{https_port}",
                                                  send=b'{"type":"hello","token":"not-a-token"}')
            check(status == 101 and headers.get("upgrade", "").lower() == "websocket",
                  f"nginx: WebSocket upgrade on /ws through nginx answered {status} (Host and Origin passed as sent)")
            check(b'"unauthorized"' in reply,
                  f"nginx: frames cross the proxy both ways (hello with a bad token answered {reply[:120]!r})")
            status, _, _ = ws_handshake(https_port, ctx, origin="https://evil.example")
            check(status == 403, f"nginx: a foreign Origin is still refused by the server behind nginx ({status})")
            s = socket.create_connection(("127.0.0.1", http_port), timeout=5)
            s.sendall(b"GET /x HTTP/1.1\r\nHost: chat.example\r\nConnection: close\r\n\r\n")
            first = s.recv(4096).decode(errors="replace")
            s.close()
            check(" 301 " in first.splitlines()[0] and "https://chat.example/x" in first,
                  "nginx: plain http redirects to https")
            proxy.stop(signal.SIGQUIT)
            rc = server.stop()
            check(rc == 0, f"nginx: the server behind nginx stopped with exit code 0 on SIGTERM ({rc})")
        finally:
            procs.stop_all()


def wait_port(port, proc, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.p.poll() is not None:
            raise RuntimeError("process exited: " + proc.p.stdout.read())
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # nginx writes no line when it is ready: its port is the event
    raise TimeoutError(f"port {port} not open")


def https_get(port, path, ctx):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return parse_response(data)


def ws_handshake(port, ctx, origin, send=None):
    """Upgrades /ws; with `send`, sends it as a text frame and returns the
    payload of the first frame the server sends back as the body."""
    key = base64.b64encode(os.urandom(16)).decode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw, \
            ctx.wrap_socket(raw, server_hostname="localhost") as s:
        s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        status, headers, rest = parse_response(data)
        if status != 101 or send is None:
            return status, headers, rest
        mask = os.urandom(4)
        assert len(send) < 126
        s.sendall(bytes([0x81, 0x80 | len(send)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(send)))
        buf = rest

        def take(n):
            nonlocal buf
            while len(buf) < n:
                chunk = s.recv(4096)
                if not chunk:
                    raise EOFError("the connection closed mid-frame")
                buf += chunk
            out, buf = buf[:n], buf[n:]
            return out

        b0, b1 = take(2)
        n = b1 & 0x7F
        if n == 126:
            n = int.from_bytes(take(2), "big")
        elif n == 127:
            n = int.from_bytes(take(8), "big")
        return status, headers, take(n)


def parse_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode(errors="replace").split("\r\n")
    status = int(lines[0].split()[1]) if lines and len(lines[0].split()) > 1 else 0
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    return status, headers, body


# --------------------------------------------------------------- prometheus

def check_prometheus(repo, _args):
    promtool = need("promtool")
    d = os.path.join(repo, "deploy/prometheus")
    r = subprocess.run([promtool, "check", "rules", "alerts.yaml"], capture_output=True, text=True, cwd=d)
    check(r.returncode == 0, f"prometheus: promtool check rules alerts.yaml {r.stdout.strip()} {r.stderr.strip()}")
    r = subprocess.run([promtool, "test", "rules", "alerts.test.yaml"], capture_output=True, text=True, cwd=d)
    check(r.returncode == 0, f"prometheus: promtool test rules alerts.test.yaml {r.stdout.strip()} {r.stderr.strip()}")
    rules = load_yaml_docs(os.path.join(d, "alerts.yaml"))[0]
    exprs = " ".join(rule["expr"] for g in rules["groups"] for rule in g["rules"])
    for name in ("exceed_errors_total", "exceed_queue_length", "exceed_queue_wait_seconds", "exceed_connections",
                 "exceed_first_response_seconds", "exceed_sla_breaches_total", "exceed_redis_command_seconds",
                 "exceed_redis_up", "exceed_build_info"):
        check(name in exprs, f"prometheus: an alert on {name}")


# -------------------------------------------------------------------- redis

def local_redis_conf(src, port, d):
    """deploy/compose/redis/redis.conf for a node on this machine: its port,
    loopback only, its data in d."""
    with open(os.path.join(src, "redis.conf")) as f:
        conf = f.read()
    conf = re.sub(r"^port .*$", f"port {port}", conf, flags=re.M)
    conf = re.sub(r"^bind .*$", "bind 127.0.0.1", conf, flags=re.M)
    return re.sub(r"^dir .*$", f"dir {d}", conf, flags=re.M)


def check_redis(repo, _args):
    need("redis-server")
    cli = need("redis-cli")
    src = os.path.join(repo, "deploy/compose/redis")
    with tempfile.TemporaryDirectory() as tmp:
        p1, p2, ps = free_ports(3)
        procs = Procs()
        try:
            def node(name, port, extra):
                d = os.path.join(tmp, name)
                os.makedirs(d)
                with open(os.path.join(d, "redis.conf"), "w") as f:
                    f.write(local_redis_conf(src, port, d) + extra)
                return procs.start(["redis-server", os.path.join(d, "redis.conf")], ready=r"Ready to accept connections")

            node("primary", p1, "")
            # min-replicas-to-write 1: the primary refuses writes with no replica.
            r = subprocess.run([cli, "-p", str(p1), "SET", "k", "v"], capture_output=True, text=True)
            check("NOREPLICAS" in r.stdout + r.stderr, "redis: a primary without a replica refuses writes (min-replicas-to-write)")
            replica = node("replica", p2, f"\nreplicaof 127.0.0.1 {p1}\n")
            replica.wait_for(r"MASTER <-> REPLICA sync: Finished with success")
            # The primary counts the replica once it has acknowledged the stream (REPLCONF ACK, each second).
            deadline = time.monotonic() + 10
            while True:
                r = subprocess.run([cli, "-p", str(p1), "SET", "k", "v"], capture_output=True, text=True)
                if r.stdout.strip() == "OK" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            check(r.stdout.strip() == "OK", f"redis: with a replica in sync the primary takes writes ({r.stdout.strip()})")

            def get(port, key):
                out = subprocess.run([cli, "-p", str(port), "CONFIG", "GET", key], capture_output=True, text=True).stdout
                lines = out.split("\n")
                return lines[1].strip() if len(lines) > 1 else ""

            check(get(p1, "appendonly") == "yes", "redis: appendonly yes")
            check(get(p1, "appendfsync") in ("everysec", "always"), f"redis: appendfsync {get(p1, 'appendfsync')}")
            check(get(p1, "maxmemory-policy") == "noeviction", "redis: maxmemory-policy noeviction")
            check(get(p1, "min-replicas-to-write") == "1", "redis: min-replicas-to-write 1")
            check(get(p2, "replica-read-only") == "yes", "redis: replicas are read-only")

            sd = os.path.join(tmp, "sentinel")
            os.makedirs(sd)
            with open(os.path.join(src, "sentinel.conf")) as f:
                sconf = f.read()
            master = re.search(r"^sentinel monitor (\S+) ", sconf, re.M).group(1)
            sconf = re.sub(r"^port .*$", f"port {ps}\nbind 127.0.0.1", sconf, flags=re.M)
            sconf = re.sub(r"^dir .*$", f"dir {sd}", sconf, flags=re.M)
            sconf = re.sub(r"^(sentinel monitor \S+) \S+ 6379", rf"\1 127.0.0.1 {p1}", sconf, flags=re.M)
            with open(os.path.join(sd, "sentinel.conf"), "w") as f:
                f.write(sconf + "sentinel announce-ip 127.0.0.1\n")
            procs.start(["redis-server", os.path.join(sd, "sentinel.conf"), "--sentinel"],
                        ready=rf"\+monitor master {master} 127.0.0.1 {p1}")
            out = subprocess.run([cli, "-p", str(ps), "SENTINEL", "get-master-addr-by-name", master],
                                 capture_output=True, text=True).stdout.split()
            check(out == ["127.0.0.1", str(p1)], f"redis: the sentinel names the primary of '{master}' ({out})")
        finally:
            procs.stop_all()


def check_cluster(repo, args):
    need("redis-server")
    cli = need("redis-cli")
    src = os.path.join(repo, "deploy/compose/redis")
    compose = load_yaml_docs(os.path.join(repo, "deploy/compose/cluster.yaml"))[0]
    env_of = next(s["environment"] for s in compose["services"].values()
                  if "EXCEED_REDIS_CLUSTER" in s.get("environment", {}))
    with tempfile.TemporaryDirectory() as tmp:
        ports = free_ports(9, offset=10000)
        procs = Procs()
        try:
            for port in ports:
                d = os.path.join(tmp, str(port))
                os.makedirs(d)
                with open(os.path.join(d, "redis.conf"), "w") as f:
                    f.write(local_redis_conf(src, port, d))
                with open(os.path.join(src, "cluster.conf")) as f:
                    cconf = f.read()
                check(re.search(r"^include /etc/redis/redis.conf$", cconf, re.M), "cluster: cluster.conf includes redis.conf")
                cconf = re.sub(r"^include .*$", f"include {d}/redis.conf", cconf, flags=re.M)
                cconf = re.sub(r"^cluster-config-file .*$", f"cluster-config-file {d}/nodes.conf", cconf, flags=re.M)
                with open(os.path.join(d, "cluster.conf"), "w") as f:
                    f.write(cconf)
                # As start-cluster-node.sh starts a node, announcing a name that resolves here.
                procs.start(["redis-server", os.path.join(d, "cluster.conf"), "--cluster-announce-hostname", "127.0.0.1"],
                            ready=r"Ready to accept connections")
            with open(os.path.join(src, "create-cluster.sh")) as f:
                replicas = re.search(r"--cluster-replicas (\d+)", f.read())
            check(replicas and replicas.group(1) == "2", "cluster: create-cluster.sh gives each primary two replicas")
            r = subprocess.run([cli, "--cluster", "create", *[f"127.0.0.1:{p}" for p in ports], "--cluster-replicas", "2",
                                "--cluster-yes"], capture_output=True, text=True, timeout=60)
            check(r.returncode == 0, f"cluster: redis-cli --cluster create formed it {r.stderr.strip()[-300:]}")

            def get(port, *cmd):
                return subprocess.run([cli, "-p", str(port), *cmd], capture_output=True, text=True).stdout

            deadline = time.monotonic() + 30
            while "cluster_state:ok" not in get(ports[0], "CLUSTER", "INFO") and time.monotonic() < deadline:
                time.sleep(0.2)
            check("cluster_state:ok" in get(ports[0], "CLUSTER", "INFO"), "cluster: cluster_state:ok")
            for key, want in (("cluster-enabled", "yes"), ("appendonly", "yes"), ("maxmemory-policy", "noeviction"),
                              ("cluster-require-full-coverage", "no"), ("cluster-preferred-endpoint-type", "hostname"),
                              ("min-replicas-to-write", "1")):
                got = get(ports[0], "CONFIG", "GET", key).split("\n")
                check(len(got) > 1 and got[1].strip() == want, f"cluster: {key} {want}")

            # The real command line stores on it with cluster.yaml's settings. Until
            # each replica has acknowledged the stream its primary refuses writes
            # (min-replicas-to-write), as the server would answer 'unavailable'.
            env = dict(os.environ, EXCEED_REDIS_CLUSTER=f"127.0.0.1:{ports[0]},127.0.0.1:{ports[1]}",
                       EXCEED_REDIS_PREFIX=env_of["EXCEED_REDIS_PREFIX"], EXCEED_AUTH_PASSWORD_ITERATIONS="1000")
            deadline = time.monotonic() + 20
            while True:
                r = subprocess.run([args.exceed, "user", "add", "ops", "--role", "supervisor"], input="a long password\n",
                                   capture_output=True, text=True, env=env, timeout=30)
                if r.returncode == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            check(r.returncode == 0, f"cluster: exceed user add on the cluster ({r.stderr.strip()[-300:]})")
            tagged = subprocess.run([cli, "-c", "-p", str(ports[0]), "SCARD", env_of["EXCEED_REDIS_PREFIX"] + "users"],
                                    capture_output=True, text=True).stdout.strip()
            check(tagged == "1", f"cluster: the user's keys carry the prefix's hash tag ({tagged})")

            # The server with deploy/k8s's ConfigMap and the cluster overlay's
            # variables (redis-cluster-env.yaml) serves on it.
            path = os.path.join(tmp, "exceed.toml")
            with open(path, "w") as f:
                f.write(shipped_configmap_toml(repo))
            overlay = {}
            for doc in load_yaml_docs(os.path.join(repo, "deploy/k8s/cluster/redis-cluster-env.yaml")):
                for c in doc["spec"]["template"]["spec"]["containers"]:
                    overlay.update({e["name"]: e.get("value", "") for e in c.get("env", [])})
            (port,) = free_ports(1)
            senv = {k: v for k, v in os.environ.items() if not k.startswith("EXCEED_")}
            senv.update(overlay)
            senv.update(EXCEED_AUTH_TOKEN_SECRET="deploy-test-secret-0123456789",
                        EXCEED_METRICS_TOKEN="deploy-test-metrics-token-0123",
                        EXCEED_REDIS_CLUSTER=",".join(f"redis://127.0.0.1:{p}" for p in ports[:2]),
                        EXCEED_SERVER_LISTEN=f"127.0.0.1:{port}",
                        EXCEED_SERVER_WEB_ROOT=os.path.join(repo, "web"),
                        EXCEED_ASSESSMENT_RULES_FILE=os.path.join(repo, "config/assessment.toml"))
            server = procs.start([args.exceed, "serve", "--config", path], env=senv, ready=r"listening on")
            wait_serving(port, server)
            deadline = time.monotonic() + 15
            while http_status(port, "/readyz") != 200 and time.monotonic() < deadline:
                time.sleep(0.2)
            check(http_status(port, "/readyz") == 200, "cluster: the server with the k8s cluster overlay is ready")
            rc = server.stop()
            check(rc == 0, f"cluster: SIGTERM stops it with exit code 0 ({rc})")
        finally:
            procs.stop_all()


# ------------------------------------------------------------------- config

def shipped_configmap_toml(repo):
    """The exceed.toml of deploy/k8s/configmap.yaml."""
    objs = {}
    for d in load_yaml_docs(os.path.join(repo, "deploy/k8s/configmap.yaml")):
        objs.setdefault(d["kind"], []).append(("configmap.yaml", d))
    return configmap_toml(objs)


def check_config(repo, args):
    toml_text = shipped_configmap_toml(repo)
    check(bool(toml_text), "config: the ConfigMap carries exceed.toml")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "exceed.toml")
        with open(path, "w") as f:
            f.write(toml_text)
        redis_port, port = free_ports(2)
        procs = Procs()
        # The file as shipped, with what only the cluster has replaced: the
        # listen address (a free port), the image's paths, the sentinels
        # (the cluster's names do not resolve here: the URL's Redis instead).
        env = {k: v for k, v in os.environ.items() if not k.startswith("EXCEED_")}
        metrics_token = "deploy-test-metrics-token-0123"
        env.update(EXCEED_AUTH_TOKEN_SECRET="deploy-test-secret-0123456789",
                   EXCEED_METRICS_TOKEN=metrics_token,
                   EXCEED_REDIS_URL=f"redis://127.0.0.1:{redis_port}",
                   EXCEED_REDIS_SENTINELS="",
                   EXCEED_SERVER_LISTEN=f"127.0.0.1:{port}",
                   EXCEED_SERVER_WEB_ROOT=os.path.join(repo, "web"),
                   EXCEED_ASSESSMENT_RULES_FILE=os.path.join(repo, "config/assessment.toml"))
        try:
            procs.start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no", "--dir", tmp], ready=r"Ready to accept connections")
            server = procs.start([args.exceed, "serve", "--config", path], env=env, ready=r"listening on")
            wait_serving(port, server)
            for path_, want in (("/healthz", 200), ("/readyz", 200)):
                status = http_status(port, path_)
                check(status == want, f"config: GET {path_} answers {want} ({status})")
            # /metrics wants the token (metrics.public = false in the ConfigMap).
            check(http_status(port, "/metrics") == 401, "config: GET /metrics without the token answers 401")
            # Every exceed_* metric the alert rules use is one the server exposes.
            req = urllib.request.Request(f"http://127.0.0.1:{port}/metrics",
                                         headers={"Authorization": f"Bearer {metrics_token}"})
            with urllib.request.urlopen(req, timeout=5) as r:
                exposed = set(re.findall(r"^# TYPE (\w+) ", r.read().decode(), re.M))
            rules = load_yaml_docs(os.path.join(repo, "deploy/prometheus/alerts.yaml"))[0]
            used = set()
            for g in rules["groups"]:
                for rule in g["rules"]:
                    used |= {re.sub(r"_(bucket|sum|count)$", "", m) for m in re.findall(r"\bexceed_\w+", rule["expr"])}
            check(used and used <= exposed,
                  f"config: GET /metrics exposes every metric of alerts.yaml (missing: {sorted(used - exposed)})")
            rc = server.stop()
            check(rc == 0, f"config: SIGTERM stops the server with exit code 0 ({rc})")
            check(any("stopped" in line for line in server.lines), "config: the server logged its orderly stop")
        finally:
            procs.stop_all()

        # The other samples' variables are settings the server knows, with
        # values it takes: the systemd environment file, the compose
        # environment and .env example, the image's ENV.
        for source, sample in env_samples(repo).items():
            env2 = {k: v for k, v in os.environ.items() if not k.startswith("EXCEED_")}
            env2.update(sample)
            env2.update(EXCEED_AUTH_TOKEN_SECRET="deploy-test-secret-0123456789",
                        EXCEED_SERVER_LISTEN=f"127.0.0.1:{port}",
                        EXCEED_REDIS_URL=f"redis://127.0.0.1:{redis_port}",
                        EXCEED_SERVER_WEB_ROOT=os.path.join(repo, "web"),
                        EXCEED_ASSESSMENT_RULES_FILE=os.path.join(repo, "config/assessment.toml"))
            env2.pop("EXCEED_CONFIG", None)
            procs = Procs()
            try:
                server = procs.start([args.exceed, "serve"], env=env2, ready=r"listening on")
                wait_serving(port, server)
                rc = server.stop()
                check(rc == 0, f"config: the server takes the settings of {source} ({sorted(sample)}), exit code {rc}"
                      + ("" if rc == 0 else ":\n" + "".join(server.lines[-10:])))
            except RuntimeError as e:
                check(False, f"config: the server refuses the settings of {source}: {e}")
            finally:
                procs.stop_all()

        # Without the token secret (the example Secret) the server refuses to start.
        env.pop("EXCEED_AUTH_TOKEN_SECRET")
        env["EXCEED_AUTH_TOKEN_SECRET"] = ""
        r = subprocess.run([args.exceed, "serve", "--config", path], env=env, capture_output=True, text=True, timeout=20)
        check(r.returncode == 2 and "token_secret" in r.stdout + r.stderr,
              f"config: an empty EXCEED_AUTH_TOKEN_SECRET stops the server with exit code 2 ({r.returncode})")


def env_samples(repo):
    """EXCEED_* variables of each sample: {source: {name: value}}."""
    out = {}
    with open(os.path.join(repo, "deploy/systemd/exceed.env")) as f:
        out["deploy/systemd/exceed.env"] = dict(
            l.strip().split("=", 1) for l in f if re.match(r"^EXCEED_\w+=", l))
    compose = load_yaml_docs(os.path.join(repo, "deploy/compose/compose.yaml"))[0]
    env = {}
    with open(os.path.join(repo, "deploy/compose/exceed.env.example")) as f:
        env.update(l.strip().split("=", 1) for l in f if re.match(r"^EXCEED_\w+=", l))
    env.pop("EXCEED_AUTH_TOKEN_SECRET", None)  # empty in the example: set by the operator
    env.update({k: str(v) for k, v in compose["services"]["exceed-1"].get("environment", {}).items()})
    out["deploy/compose (environment and exceed.env.example)"] = env
    with open(os.path.join(repo, "deploy/container/Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(re.findall(r"(EXCEED_\w+)=(\S+)", line))
    out["deploy/container/Dockerfile ENV"] = env
    return out


def wait_serving(port, proc, timeout=10):
    """Waits until the server answers GET /healthz. Its "listening on" line
    comes before main() installs the SIGTERM handler; an answer over HTTP
    means the event loop (and so the handler) runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.p.poll() is not None:
            raise RuntimeError(f"the server exited ({proc.p.returncode})")
        try:
            if http_status(port, "/healthz") == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"no answer on /healthz at port {port}")


def http_status(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


# ------------------------------------------------------------------ tls

def check_tls(repo, args):
    """testssl.sh against the server's own TLS listener (server.tls_cert):
    every suite forward secret, TLS 1.2 and 1.3 only, nothing vulnerable."""
    testssl = shutil.which("testssl") or shutil.which("testssl.sh")
    if not testssl:
        print("skip tls: testssl.sh is not installed (Debian package testssl.sh; scripts/setup installs it)")
        return
    openssl = need("openssl")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
                        "-keyout", f"{tmp}/key.pem", "-out", f"{tmp}/cert.pem"], check=True, capture_output=True)
        redis_port, port = free_ports(2)
        procs = Procs()
        env = {k: v for k, v in os.environ.items() if not k.startswith("EXCEED_")}
        env.update(EXCEED_AUTH_TOKEN_SECRET="deploy-test-secret-0123456789",
                   EXCEED_REDIS_URL=f"redis://127.0.0.1:{redis_port}",
                   EXCEED_SERVER_LISTEN=f"127.0.0.1:{port}",
                   EXCEED_SERVER_WEB_ROOT=os.path.join(repo, "web"),
                   EXCEED_ASSESSMENT_RULES_FILE=os.path.join(repo, "config/assessment.toml"))
        try:
            procs.start(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
                         "--appendonly", "no", "--dir", tmp], ready=r"Ready to accept connections")
            server = procs.start([args.exceed, "serve", "--tls-cert", f"{tmp}/cert.pem", "--tls-key", f"{tmp}/key.pem"],
                                 env=env, ready=r"listening on")
            wait_port(port, server)
            report = os.path.join(tmp, "testssl.json")
            r = subprocess.run([testssl, "--quiet", "--color", "0", "--warnings", "off", "--protocols", "--each-cipher",
                                "--fs", "--vulnerable", "--jsonfile", report, f"127.0.0.1:{port}"],
                               capture_output=True, text=True, timeout=500)
            with open(report) as f:
                findings = json.load(f)
            by_id = {f["id"]: f["finding"] for f in findings}
            check(by_id.get("TLS1") == "not offered" and by_id.get("TLS1_1") == "not offered",
                  f"tls: no TLS 1.0 or 1.1 ({by_id.get('TLS1')}, {by_id.get('TLS1_1')})")
            ciphers = [f["finding"] for f in findings if f["id"].startswith("cipher_")]
            check(len(ciphers) >= 2, f"tls: testssl.sh listed the suites offered ({len(ciphers)}; exit {r.returncode})")
            # "<hex> <name> <key exchange> <bits> <encryption> ...": ECDH or DH is forward secret.
            without_fs = [c for c in ciphers if len(c.split()) < 3 or c.split()[2] not in ("ECDH", "DH")]
            check(not without_fs, f"tls: every suite has forward secrecy (without: {without_fs})")
            not_aead = [c for c in ciphers if not re.search(r"AESGCM|ChaCha20|AESCCM", c)]
            check(not not_aead, f"tls: every suite is AEAD (not: {not_aead})")
            bad = [f"{f['id']}: {f['finding']}" for f in findings
                   if "VULNERABLE" in f["finding"] or f.get("severity") in ("MEDIUM", "HIGH", "CRITICAL")]
            check(not bad, f"tls: no VULNERABLE or medium-or-worse finding ({bad})")
        finally:
            procs.stop_all()


CHECKS = {
    "compose": check_compose,
    "k8s": check_k8s,
    "container": check_container,
    "systemd": check_systemd,
    "nginx": check_nginx,
    "prometheus": check_prometheus,
    "redis": check_redis,
    "cluster": check_cluster,
    "config": check_config,
    "tls": check_tls,
}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("check", choices=sorted(CHECKS))
    ap.add_argument("--repo", required=True)
    ap.add_argument("--exceed", help="the built exceed binary")
    args = ap.parse_args()
    if args.check in ("systemd", "nginx", "config", "tls", "cluster") and not (args.exceed and os.access(args.exceed, os.X_OK)):
        print(f"FAIL the exceed binary is needed: --exceed {args.exceed}", file=sys.stderr)
        return 1
    try:
        CHECKS[args.check](os.path.abspath(args.repo), args)
    except Exception as e:  # a process that would not start, a file that does not parse, ...
        check(False, f"{args.check}: {type(e).__name__}: {e}")
    if FAILURES:
        print(f"\n{len(FAILURES)} check(s) failed:", *FAILURES, sep="\n  ")
        return 1
    print(f"\nall {args.check} checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
