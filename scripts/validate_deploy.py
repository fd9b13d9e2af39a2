#!/usr/bin/env python3
"""Offline checks of Reel's deployment files; scripts/validate-deploy runs it in its venv.

1. Kubernetes: every manifest under deploy/k8s/ against the Kubernetes JSON schemas that
   kubernetes-validate bundles, strictly (unknown fields refused), for the oldest and the
   newest Kubernetes it knows. A kind with no schema fails, except the KEDA ScaledObject,
   which scripts/validate-deploy checks against deploy/schemas/ with check-jsonschema.
2. What no schema sees, tied to the code and docs it depends on:
   * every Reel setting set in an environment (ConfigMap, Secret, container env,
     compose.yaml) is a key of docs/configuration.md (or a flag's variable in src/main.rs);
   * every `reel` command line names a subcommand and flags that src/main.rs defines;
   * references resolve: ConfigMaps, Secrets, claims, Service selectors and target ports,
     Ingress backends, probe ports, PodDisruptionBudget and autoscaler targets;
   * graceful shutdown is longer than a job lease (jobs.lease_secs), for pods and compose;
   * the KEDA query asks for the metric and label values src/ records (`reel_jobs`,
     `kind`, `state`), and its threshold is the worker's jobs per pod (REEL_WORKERS);
   * pods run as the Containerfile's non-root uid with a read-only root filesystem;
   * Containerfile: COPY sources exist in git and are not excluded by .dockerignore,
     stages exist, the binary cargo builds is the one copied and run, the playground is
     where REEL_PLAYGROUND__DIR says, the health check and EXPOSE use the listen port;
   * compose.yaml: `${VAR}`s are in .env.example, depends_on targets and bind-mount
     sources exist, nginx's upstreams are services on the listen port, and counts and
     switches the compose schema accepts as any string are numbers or booleans.

Usage: validate_deploy.py [--replace REL=FILE]... [ROOT]
Prints one line per problem; exit status 1 if any. --replace checks the tree as if REL held
FILE's content (scripts/validate-deploy uses it to prove that broken files fail).
"""

from __future__ import annotations

import fnmatch
import glob
import os
import re
import subprocess
import sys

import kubernetes_validate as kv
import kubernetes_validate.utils as kvu
import yaml

REPLACED: dict[str, str] = {}
_args = sys.argv[1:]
while _args[:1] == ["--replace"]:
    _rel, _, _file = _args[1].partition("=")
    REPLACED[os.path.normpath(_rel)] = _file
    _args = _args[2:]
ROOT = os.path.abspath(_args[0] if _args else os.path.join(os.path.dirname(__file__), ".."))
problems: list[str] = []


def problem(where: str, what: str) -> None:
    problems.append(f"{where}: {what}")


def read(rel: str) -> str:
    path = REPLACED.get(os.path.normpath(rel), os.path.join(ROOT, rel))
    with open(path, encoding="utf-8") as f:
        return f.read()


def yaml_docs(rel: str) -> list[dict]:
    try:
        return [d for d in yaml.safe_load_all(read(rel)) if d is not None]
    except yaml.YAMLError as e:
        problem(rel, f"not YAML: {e}")
        return []


# --- facts from the code and the docs ------------------------------------------------

def must(match, what: str):
    """A regex match the checks depend on; a clear failure when the code moved."""
    if match is None:
        raise SystemExit(f"validate_deploy.py: cannot find {what}; update scripts/validate_deploy.py")
    return match


def documented_keys() -> set[str]:
    """Keys named in the first column of docs/configuration.md's tables."""
    keys = set()
    for line in read("docs/configuration.md").splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split("|")[1]
        keys.update(re.findall(r"`([a-z_][a-z0-9_.]*)`", first))
    return keys


# Keys whose value is a map: any sub-key is the user's (opendal options, named origins…).
MAP_KEYS = {"storage.options", "delivery.origins", "delivery.cdns", "limits.apps"}


def cli() -> tuple[dict[str, set[str]], set[str]]:
    """`reel` subcommands with their long flags, and variables of flags (`env = "…"`)."""
    src = read("src/main.rs")
    body = must(re.search(r"enum Command \{(.*?)\n\}", src, re.S), "enum Command in src/main.rs").group(1)
    commands: dict[str, set[str]] = {}
    current = None
    for line in body.splitlines():
        m = re.match(r"    ([A-Z][A-Za-z]*)\b", line)
        if m:
            current = m.group(1).lower()
            commands[current] = set()
            continue
        m = re.match(r"        ([a-z_]+): ", line)
        if m and current:
            commands[current].add("--" + m.group(1).replace("_", "-"))
    global_flags = {"--config", "--help", "--version"}
    for flags in commands.values():
        flags.update(global_flags)
    env_vars = set(re.findall(r'env = "([A-Z0-9_]+)"', src))
    return commands, env_vars


COMMANDS, FLAG_VARS = cli()
KEYS = documented_keys()


def job_metric() -> tuple[str, set[str], set[str]]:
    """The queue gauge's name, its `state` values and the job kinds (`kind` values)."""
    name = must(re.search(r'pub const JOBS: &str = "([a-z_]+)";', read("src/metrics.rs")), "JOBS in src/metrics.rs").group(1)
    counts = must(re.search(r"pub async fn counts.*?VALUES (.*?)\) AS s\(state\)", read("src/db/jobs.rs"), re.S),
                  "the job states of db::jobs::counts in src/db/jobs.rs")
    states = set(re.findall(r"'([a-z]+)'", counts.group(1)))
    kinds = set()
    for path in glob.glob(os.path.join(ROOT, "src", "**", "*.rs"), recursive=True):
        with open(path, encoding="utf-8") as f:
            kinds.update(re.findall(r'const KIND: &\'static str = "([a-z_]+)";', f.read()))
    return name, states, kinds


def check_env_name(where: str, name: str) -> None:
    if name in ("DATABASE_URL", "REDIS_URL") or name in FLAG_VARS or name == "REEL_CONFIG":
        return
    if not name.startswith("REEL_"):
        return
    key = ".".join(part.lower() for part in name[len("REEL_"):].split("__"))
    if key in KEYS or any(key.startswith(m + ".") and len(key) > len(m) + 1 for m in MAP_KEYS):
        return
    problem(where, f"{name} sets `{key}`, which is not a setting (docs/configuration.md)")


def check_command(where: str, args: list) -> None:
    if not args:
        return
    args = [str(a) for a in args]
    sub = args[0]
    if sub not in COMMANDS:
        problem(where, f"`reel {sub}` is not a reel command ({', '.join(sorted(COMMANDS))})")
        return
    for a in args[1:]:
        if a.startswith("--") and a.split("=", 1)[0] not in COMMANDS[sub]:
            problem(where, f"`reel {sub}` has no flag {a.split('=', 1)[0]}")


def duration_secs(value) -> float | None:
    """A compose duration (`45s`, `1m30s`) in seconds."""
    if isinstance(value, (int, float)):
        return float(value)
    total, found = 0.0, False
    for n, unit in re.findall(r"(\d+(?:\.\d+)?)(us|ms|s|m|h)", str(value)):
        found = True
        total += float(n) * {"us": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}[unit]
    return total if found else None


# --- Kubernetes ------------------------------------------------------------------------

def kubernetes() -> None:
    files = sorted(glob.glob(os.path.join(ROOT, "deploy", "k8s", "**", "*.yaml"), recursive=True))
    if not files:
        problem("deploy/k8s", "no manifests")
        return
    versions = [kvu.all_versions()[0], kv.latest_version()]
    objects: list[tuple[str, dict]] = []
    for path in files:
        rel = os.path.relpath(path, ROOT)
        for doc in yaml_docs(rel):
            name = f"{rel} {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"
            objects.append((rel, doc))
            if doc.get("kind") == "ScaledObject" and str(doc.get("apiVersion", "")).startswith("keda.sh/"):
                continue  # deploy/schemas/keda-scaledobject.schema.json (check-jsonschema)
            for version in versions:
                try:
                    kv.validate(doc, version, strict=True)
                except kvu.SchemaNotFoundError as e:
                    problem(name, e.message)
                    break
                except kvu.ValidationError as e:
                    at = ".".join(str(p) for p in e.path) or "(top)"
                    problem(name, f"Kubernetes {e.version}: {at}: {e.message}")
                    break
    cross_references(objects)


def by_kind(objects, kind):
    return {d["metadata"]["name"]: (rel, d) for rel, d in objects if d.get("kind") == kind}


def matches(selector: dict, labels: dict) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def cross_references(objects) -> None:
    configmaps = by_kind(objects, "ConfigMap")
    secrets = by_kind(objects, "Secret")
    claims = by_kind(objects, "PersistentVolumeClaim")
    services = by_kind(objects, "Service")
    deployments = by_kind(objects, "Deployment")
    jobs = by_kind(objects, "Job")
    uid = containerfile_uid()

    lease = None
    for _, (rel, cm) in configmaps.items():
        for k in (cm.get("data") or {}):
            check_env_name(f"{rel} ConfigMap/{cm['metadata']['name']}", k)
        if "REEL_JOBS__LEASE_SECS" in (cm.get("data") or {}):
            lease = int(cm["data"]["REEL_JOBS__LEASE_SECS"])
    for _, (rel, s) in secrets.items():
        for k in list((s.get("stringData") or {})) + list((s.get("data") or {})):
            check_env_name(f"{rel} Secret/{s['metadata']['name']}", k)
    if lease is None:
        lease = 30  # the default of jobs.lease_secs
        problem("deploy/k8s", "no ConfigMap sets REEL_JOBS__LEASE_SECS (the grace periods are checked against it)")

    pods = {}  # name -> (rel, template spec, labels)
    for name, (rel, d) in deployments.items():
        pods[name] = (rel, d["spec"]["template"]["spec"], d["spec"]["template"]["metadata"].get("labels", {}))
        if not matches(d["spec"]["selector"].get("matchLabels", {}), pods[name][2]):
            problem(f"{rel} Deployment/{name}", "selector does not match the pod template's labels")
    for name, (rel, d) in jobs.items():
        pods[f"job {name}"] = (rel, d["spec"]["template"]["spec"], d["spec"]["template"]["metadata"].get("labels", {}))

    images = set()
    for name, (rel, spec, _) in pods.items():
        where = f"{rel} {name}"
        grace = spec.get("terminationGracePeriodSeconds", 30)
        if not name.startswith("job ") and grace <= lease:
            problem(where, f"terminationGracePeriodSeconds {grace} is not longer than the job lease ({lease} s)")
        psc = spec.get("securityContext", {})
        if psc.get("runAsNonRoot") is not True:
            problem(where, "pod securityContext.runAsNonRoot is not true")
        if uid is not None and psc.get("runAsUser") != uid:
            problem(where, f"runAsUser {psc.get('runAsUser')} is not the image's user {uid} (Containerfile USER)")
        volumes = {v["name"]: v for v in spec.get("volumes", [])}
        for v in volumes.values():
            claim = (v.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and claim not in claims:
                problem(where, f"volume {v['name']} claims {claim}, which no manifest defines")
        for c in spec.get("containers", []):
            cwhere = f"{where} container {c['name']}"
            images.add(c.get("image"))
            check_command(cwhere, c.get("args") or [])
            csc = c.get("securityContext", {})
            if csc.get("readOnlyRootFilesystem") is not True or csc.get("allowPrivilegeEscalation") is not False:
                problem(cwhere, "needs readOnlyRootFilesystem: true and allowPrivilegeEscalation: false")
            for src in c.get("envFrom", []):
                if "configMapRef" in src and src["configMapRef"]["name"] not in configmaps:
                    problem(cwhere, f"envFrom ConfigMap {src['configMapRef']['name']} is not defined")
                if "secretRef" in src and src["secretRef"]["name"] not in secrets:
                    problem(cwhere, f"envFrom Secret {src['secretRef']['name']} is not defined (secret.example.yaml)")
            for e in c.get("env", []):
                check_env_name(cwhere, e["name"])
            for m in c.get("volumeMounts", []):
                if m["name"] not in volumes:
                    problem(cwhere, f"mounts {m['name']}, which is not a volume of the pod")
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                get = (c.get(probe) or {}).get("httpGet")
                if get and isinstance(get["port"], str) and get["port"] not in ports:
                    problem(cwhere, f"{probe} uses port {get['port']}, which the container does not name")
                if get and get.get("path") != "/healthz":
                    problem(cwhere, f"{probe} checks {get.get('path')}, not /healthz")
    if len(images) > 1:
        problem("deploy/k8s", f"Reel pods use different images: {sorted(images)}")

    def pods_selected(selector):
        return [n for n, (_, _, labels) in pods.items() if not n.startswith("job ") and matches(selector, labels)]

    for name, (rel, svc) in services.items():
        chosen = pods_selected(svc["spec"].get("selector", {}))
        if not chosen:
            problem(f"{rel} Service/{name}", "selects no Deployment's pods")
        for p in svc["spec"].get("ports", []):
            target = p.get("targetPort")
            for pod in chosen:
                named = {q.get("name") for c in pods[pod][1]["containers"] for q in c.get("ports", [])}
                if isinstance(target, str) and target not in named:
                    problem(f"{rel} Service/{name}", f"targetPort {target} is not a port of {pod}")
    for rel, d in objects:
        kind, name = d.get("kind"), d["metadata"]["name"]
        where = f"{rel} {kind}/{name}"
        if kind == "Ingress":
            for rule in d["spec"].get("rules", []):
                for path in rule["http"]["paths"]:
                    svc = path["backend"]["service"]
                    if svc["name"] not in services:
                        problem(where, f"backend Service {svc['name']} is not defined")
                        continue
                    port = svc["port"].get("name") or svc["port"].get("number")
                    known = {p.get("name") for p in services[svc["name"]][1]["spec"]["ports"]} | {
                        p["port"] for p in services[svc["name"]][1]["spec"]["ports"]}
                    if port not in known:
                        problem(where, f"backend port {port} is not a port of Service {svc['name']}")
        if kind == "PodDisruptionBudget" and not pods_selected(d["spec"]["selector"].get("matchLabels", {})):
            problem(where, "selects no Deployment's pods")
        if kind in ("HorizontalPodAutoscaler", "ScaledObject"):
            target = d["spec"]["scaleTargetRef"]["name"]
            if target not in deployments:
                problem(where, f"scales {target}, which is not a Deployment here")
            elif kind == "ScaledObject":
                scaled_object(where, d, deployments[target][1])


def scaled_object(where: str, so: dict, deployment: dict) -> None:
    metric, states, kinds = job_metric()
    env = {e["name"]: e.get("value") for c in deployment["spec"]["template"]["spec"]["containers"]
           for e in c.get("env", [])}
    slots = env.get("REEL_WORKERS", "1")
    for trigger in so["spec"]["triggers"]:
        if trigger.get("type") != "prometheus":
            continue
        query = trigger["metadata"].get("query", "")
        if not re.search(rf"\b{metric}\{{", query):
            problem(where, f"the query does not read {metric}{{…}} (src/metrics.rs)")
        for label, op, value in re.findall(r'\b([a-z_]+)\s*(=~|!~|!=|=)\s*"([^"]*)"', query):
            known = {"state": states, "kind": kinds}.get(label)
            if known is None:
                problem(where, f"{metric} has no label {label} (it has kind, state)")
                continue
            for v in value.split("|"):
                if v not in known:
                    problem(where, f"{label}=\"{v}\" is not a value Reel records ({', '.join(sorted(known))})")
        if trigger.get("metricType", "AverageValue") == "AverageValue" and trigger["metadata"].get("threshold") != str(slots):
            problem(where, f"threshold {trigger['metadata'].get('threshold')} is not the jobs per worker pod "
                           f"(REEL_WORKERS={slots} in Deployment/{deployment['metadata']['name']})")


# --- Containerfile ------------------------------------------------------------------------

def instructions(text: str) -> list[tuple[str, str]]:
    out, buf = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not buf and (not stripped or stripped.startswith("#")):
            continue
        if buf and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            buf += stripped[:-1] + " "
            continue
        buf += stripped
        word, _, rest = buf.partition(" ")
        out.append((word.upper(), rest.strip()))
        buf = ""
    return out


def containerfile_uid() -> int | None:
    for word, rest in instructions(read("Containerfile")):
        if word == "USER":
            user = rest.split(":")[0]
            return int(user) if user.isdigit() else None
    return None


def ignore_patterns() -> list[tuple[bool, str]]:
    pats = []
    for line in read(".dockerignore").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        pats.append((neg, line.lstrip("!").strip("/")))
    return pats


def ignored(path: str, pats) -> bool:
    """Whether the build context leaves `path` out (last matching pattern wins)."""
    verdict = False
    for neg, pat in pats:
        parts = path.split("/")
        hit = any(fnmatch.fnmatch("/".join(parts[:i]), pat) or
                  (pat.startswith("**/") and fnmatch.fnmatch("/".join(parts[:i]), pat[3:]))
                  for i in range(1, len(parts) + 1))
        if hit:
            verdict = not neg
    return verdict


def containerfile() -> None:
    rel = "Containerfile"
    text = read(rel)
    git = subprocess.run(["git", "-C", ROOT, "ls-files"], capture_output=True, text=True)
    if git.returncode == 0:
        tracked = git.stdout.split()
    else:  # not a git checkout (an unpacked archive): every file counts
        tracked = [os.path.relpath(os.path.join(d, f), ROOT) for d, _, fs in os.walk(ROOT)
                   if "/.git" not in d for f in fs]
    pats = ignore_patterns()
    # .containerignore (Podman, Buildah) must say the same as .dockerignore.
    ci = os.path.join(ROOT, ".containerignore")
    if not os.path.exists(ci) or read(".containerignore") != read(".dockerignore"):
        problem(".containerignore", "missing or different from .dockerignore")
    bins = re.findall(r'\[\[bin\]\]\s*name\s*=\s*"([^"]+)"', read("Cargo.toml"))
    stages: dict[str, dict] = {}
    stage = None
    args = {}
    for word, rest in instructions(text):
        if stage is None and word != "FROM":
            if word != "ARG":
                problem(rel, f"{word} before the first FROM")
            k, _, v = rest.partition("=")
            args[k] = v
            continue
        if word == "FROM":
            m = re.match(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            image = re.sub(r"\$\{(\w+)\}", lambda a: args.get(a.group(1), a.group(0)), m.group(1))
            stage = m.group(2) or f"stage{len(stages)}"
            stages[stage] = {"image": image, "workdir": "/", "runs": [], "copies": [], "env": {}, "cmd": {}}
            continue
        s = stages[stage]
        if word == "WORKDIR":
            s["workdir"] = os.path.join(s["workdir"], rest)
        elif word == "RUN":
            s["runs"].append(rest)
        elif word == "ENV":
            for k, v in re.findall(r"(\w+)=(\S+)", rest):
                s["env"][k] = v
        elif word in ("ENTRYPOINT", "CMD", "HEALTHCHECK", "EXPOSE", "USER"):
            s["cmd"][word] = rest
        elif word in ("COPY", "ADD"):
            if word == "ADD":
                problem(rel, "use COPY, not ADD")
            parts = rest.split()
            flags = [p for p in parts if p.startswith("--")]
            paths = [p for p in parts if not p.startswith("--")]
            src_from = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")), None)
            *sources, dest = paths
            dest = dest if dest.startswith("/") else os.path.normpath(os.path.join(s["workdir"], dest))
            s["copies"].append((src_from, sources, dest))
            for src in sources:
                if src_from:
                    if src_from not in stages:
                        problem(rel, f"COPY --from={src_from}: no earlier stage of that name")
                    continue
                src = src.strip("/")
                if src not in tracked and not any(t.startswith(src + "/") for t in tracked):
                    problem(rel, f"COPY {src}: not a file or directory in the repository")
                elif ignored(src, pats) or all(ignored(t, pats) for t in tracked if t == src or t.startswith(src + "/")):
                    problem(rel, f"COPY {src}: excluded from the build context by .dockerignore")
    if not stages:
        problem(rel, "no FROM")
        return
    final = stages[stage]
    # The binary: built by cargo in some stage, installed somewhere, copied from there, run.
    built = None
    for name, s in stages.items():
        for run in s["runs"]:
            m = re.search(r"cargo build\b[^&;]*--bin\s+(\S+)", run)
            if m:
                if m.group(1) not in bins:
                    problem(rel, f"cargo builds --bin {m.group(1)}, not a [[bin]] of Cargo.toml ({bins})")
                for flag in ("--release", "--locked"):
                    if flag not in run:
                        problem(rel, f"cargo build without {flag}")
                inst = re.search(rf"target/release/{re.escape(m.group(1))}\s+(/\S+)", run)
                built = (name, inst.group(1) if inst else None)
    if not built or not built[1]:
        problem(rel, "no stage runs `cargo build --bin …` and puts target/release/… at an absolute path")
    else:
        copied = [dest for src_from, sources, dest in final["copies"] if src_from == built[0] and built[1] in sources]
        if not copied:
            problem(rel, f"the final stage does not COPY --from={built[0]} {built[1]}")
        entry = re.findall(r'"([^"]+)"', final["cmd"].get("ENTRYPOINT", ""))
        if not entry or entry[0] not in copied:
            problem(rel, f"ENTRYPOINT {entry[:1]} is not the copied binary {copied}")
    if not final["cmd"].get("USER", "").split(":")[0].isdigit() or final["cmd"]["USER"].startswith("0"):
        problem(rel, "the final stage must end as a numeric non-root USER")
    # The playground: built into {workdir}/dist by `npm run build`, copied where the server looks.
    play_dir = final["env"].get("REEL_PLAYGROUND__DIR")
    play = [(src_from, sources, dest) for src_from, sources, dest in final["copies"]
            if src_from in stages and any("npm run build" in r for r in stages[src_from]["runs"])]
    if not play:
        problem(rel, "the final stage copies no playground build")
    for src_from, sources, dest in play:
        if sources != [os.path.join(stages[src_from]["workdir"], "dist")]:
            problem(rel, f"playground: copies {sources}, but build.mjs writes {stages[src_from]['workdir']}/dist")
        if dest.rstrip("/") != (play_dir or "").rstrip("/"):
            problem(rel, f"playground copied to {dest} but REEL_PLAYGROUND__DIR is {play_dir}")
    listen = final["env"].get("REEL_LISTEN", "")
    port = listen.rsplit(":", 1)[-1]
    if final["cmd"].get("EXPOSE", "").split("/")[0] != port:
        problem(rel, f"EXPOSE {final['cmd'].get('EXPOSE')} is not the REEL_LISTEN port {port}")
    if f":{port}/healthz" not in final["cmd"].get("HEALTHCHECK", ""):
        problem(rel, f"HEALTHCHECK does not ask /healthz on port {port}")
    for k in final["env"]:
        check_env_name(rel, k)


# --- compose.yaml ------------------------------------------------------------------------

def compose() -> None:
    rel = "compose.yaml"
    text = read(rel)
    docs = yaml_docs(rel)
    if not docs:
        return
    c = docs[0]
    env_example = {line.split("=", 1)[0].strip() for line in read(".env.example").splitlines()
                   if "=" in line and not line.lstrip().startswith("#")}
    for var, op in re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+]?)", text):
        if op not in (":-", "-") and var not in env_example:
            problem(rel, f"${{{var}}} has no default and is not in .env.example")
    services = c.get("services", {})
    volumes = set((c.get("volumes") or {}).keys())
    lease = 30
    image_port = None
    for word, rest in instructions(read("Containerfile")):
        if word == "ENV":
            m = re.search(r"REEL_LISTEN=\S*:(\d+)", rest)
            image_port = m.group(1) if m else image_port
    for name, s in services.items():
        where = f"{rel} service {name}"
        env = s.get("environment") or {}
        if isinstance(env, list):
            env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
        is_reel = isinstance(s.get("build"), dict) or "reel" in str(s.get("image", ""))
        if is_reel:
            for k in env:
                check_env_name(where, k)
            if "REEL_JOBS__LEASE_SECS" in env:
                lease = int(env["REEL_JOBS__LEASE_SECS"])
            cmd = s.get("command") or []
            check_command(where, cmd if isinstance(cmd, list) else str(cmd).split())
            b = s.get("build")
            if isinstance(b, dict) and not os.path.isfile(os.path.join(ROOT, b.get("context", "."), b.get("dockerfile", "Dockerfile"))):
                problem(where, f"build: {b} names no file")
        for dep in (s.get("depends_on") or {}):
            if dep not in services:
                problem(where, f"depends_on {dep}, which is not a service")
        for v in s.get("volumes") or []:
            spec = v if isinstance(v, str) else f"{v.get('source', '')}:{v.get('target', '')}"
            source = spec.split(":")[0] if ":" in spec else None
            if source and (source.startswith(".") or source.startswith("/")):
                if not os.path.exists(os.path.join(ROOT, source)):
                    problem(where, f"bind mount {source} does not exist")
            elif source and source not in volumes:
                problem(where, f"volume {source} is not declared under volumes:")
        # The compose schema takes any string here (for interpolation); a typo is not one.
        for path, value, kind in (
            ("deploy.replicas", (s.get("deploy") or {}).get("replicas"), int),
            ("scale", s.get("scale"), int),
            ("healthcheck.retries", (s.get("healthcheck") or {}).get("retries"), int),
            ("init", s.get("init"), bool),
            ("read_only", s.get("read_only"), bool),
            ("healthcheck.disable", (s.get("healthcheck") or {}).get("disable"), bool),
        ):
            if value is None or isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
                continue
            if not (isinstance(value, str) and re.fullmatch(r"\$\{[^}]+\}", value)):
                problem(where, f"{path}: {value!r} is not a{'n integer' if kind is int else ' boolean'}")
    worker = [n for n, s in services.items() if "worker" in [str(a) for a in (s.get("command") or [])][:1]]
    for n in worker:
        grace = duration_secs(services[n].get("stop_grace_period", "10s"))
        if grace is None or grace <= lease:
            problem(f"{rel} service {n}", f"stop_grace_period {services[n].get('stop_grace_period')} is not longer than the job lease ({lease} s)")
    # nginx in front: its upstreams are API services on the port they listen on.
    for s in services.values():
        for v in s.get("volumes") or []:
            if isinstance(v, str) and v.startswith("./") and v.split(":")[0].endswith(".conf"):
                if not os.path.isfile(os.path.join(ROOT, v.split(":")[0])):
                    continue  # reported above as a missing bind mount
                conf = read(v.split(":")[0])
                for host, port in re.findall(r"^\s*server\s+([\w.-]+):(\d+)", conf, re.M):
                    if host not in services:
                        problem(v.split(":")[0], f"upstream {host} is not a service of compose.yaml")
                    elif image_port and port != image_port:
                        problem(v.split(":")[0], f"upstream {host}:{port}, but Reel listens on {image_port}")
                    elif "serve" not in [str(a) for a in (services[host].get("command") or [])][:1]:
                        problem(v.split(":")[0], f"upstream {host} does not run `reel serve`")


def main() -> int:
    kubernetes()
    containerfile()
    compose()
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
