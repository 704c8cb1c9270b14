#!/usr/bin/python3
"""Creates the test cloud's fixtures through the OpenStack APIs; idempotent.

`cloud_fixtures.py identity` needs only Keystone: service users, the catalog, and
the projects and users the tests log in as. `cloud_fixtures.py cloud` needs every
service: flavors, quotas, the network test-net, the default security group;
it waits until the compute host takes servers, then writes clouds.yaml and
test-cloud.json (what test/support/openstack.ts reads) next to the state.
Settings come from the environment that cloud.sh exports.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

ENV = os.environ
CLOUD_DIR = ENV["CLOUD_DIR"]
KEYSTONE = ENV["KEYSTONE_URL"]
REGION = "RegionOne"
COMPUTE_VERSION = "2.93"

SERVICES = [  # (user, type, endpoint URL)
    ("glance", "image", ENV["GLANCE_URL"]),
    ("placement", "placement", ENV["PLACEMENT_URL"]),
    ("nova", "compute", ENV["NOVA_URL"] + "/v2.1"),
    ("neutron", "network", ENV["NEUTRON_URL"]),
]

OPERATOR = {"cloud": "nova-docker-test", "project": "nova-docker-test",
            "user": "nova-docker-operator", "password": ENV["OPERATOR_PASSWORD"]}
# A second project whose RAM quota is below the smallest flavor, so any
# server create there is refused with 403 "Quota exceeded for ram".
QUOTA = {"cloud": "nova-docker-test-quota", "project": "nova-docker-quota",
         "user": "nova-docker-quota", "password": ENV["OPERATOR_PASSWORD"]}
ADMIN = {"cloud": "nova-docker-test-admin", "project": "admin",
         "user": "admin", "password": ENV["ADMIN_PASSWORD"]}

# Flavor IDs equal their names, so either works as flavorRef. Nova refuses a
# zero-disk flavor for image-backed servers unless the caller is admin.
FLAVORS = {
    "tiny": {"id": "test.tiny", "name": "test.tiny", "ram": 128, "vcpus": 1, "disk": 1},
    "small": {"id": "test.small", "name": "test.small", "ram": 512, "vcpus": 1, "disk": 2},
    # Requires a trait no resource provider has, so placement finds no host
    # and the server goes to ERROR with "No valid host was found".
    "unschedulable": {"id": "test.unschedulable", "name": "test.unschedulable",
                      "ram": 128, "vcpus": 1, "disk": 1,
                      "extra_specs": {"trait:CUSTOM_NOVA_DOCKER_TEST_UNSCHEDULABLE": "required"}},
}
OPERATOR_COMPUTE_QUOTA = {"instances": 200, "cores": 400, "ram": 204800,
                          "server_groups": 50, "server_group_members": 50}
OPERATOR_NETWORK_QUOTA = {"network": 50, "subnet": 50, "port": 500,
                          "security_group": 50, "security_group_rule": 500}
QUOTA_PROJECT_RAM_MB = 64
NETWORK = {"name": "test-net", "subnet": "test-subnet", "cidr": "10.20.0.0/24"}


STARTED = time.monotonic()


def progress(message):
    print(f"fixtures: {message} ({time.monotonic() - STARTED:.1f} s)", file=sys.stderr)


class ApiError(Exception):
    pass


def call(method, url, body=None, token=None, headers=None, ok=(200, 201, 202, 204)):
    """Sends one request and returns (status, headers, parsed body)."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, method=method, data=data)
    req.add_header("Content-Type", "application/json")
    req.add_header("Accept", "application/json")
    if token:
        req.add_header("X-Auth-Token", token)
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            status, rheaders, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as err:
        status, rheaders, raw = err.code, err.headers, err.read()
    if status not in ok:
        raise ApiError(f"{method} {url} returned {status}: {raw[:300].decode(errors='replace')}")
    return status, rheaders, (json.loads(raw) if raw else None)


def service_alive(name):
    """Returns whether the process named in the service's pid file still runs."""
    try:
        with open(os.path.join(CLOUD_DIR, "run", f"{name}.pid")) as pid_file:
            pid, started = pid_file.read().split()
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[19] == started
    except (OSError, ValueError, IndexError):
        return False


def retry(description, attempt, timeout=120, service=None):
    """Repeats attempt until it returns a true value, because services that
    just started return 5xx or refuse connections for a while. Gives up early
    when the named service's process has exited."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if service and not service_alive(service):
            log = os.path.join(CLOUD_DIR, "logs", f"{service}.log")
            raise SystemExit(f"fixtures: {service} exited while waiting for {description}; see {log}")
        try:
            result = attempt()
            if result:
                return result
        except (ApiError, OSError) as err:
            last = err
        time.sleep(0.5)
    raise SystemExit(f"fixtures: timed out after {timeout} s waiting for {description}: {last}")


def token_for(who, scope=True):
    auth = {"identity": {"methods": ["password"], "password": {"user": {
        "name": who["user"], "domain": {"id": "default"}, "password": who["password"]}}}}
    if scope:
        auth["scope"] = {"project": {"name": who["project"], "domain": {"id": "default"}}}
    _, headers, _ = call("POST", f"{KEYSTONE}/v3/auth/tokens", {"auth": auth})
    return headers["X-Subject-Token"]


def get_or_create(token, collection, key, query, body):
    _, _, found = call("GET", f"{KEYSTONE}/v3/{collection}?{urllib.parse.urlencode(query)}", token=token)
    if found[collection]:
        return found[collection][0]["id"]
    _, _, created = call("POST", f"{KEYSTONE}/v3/{collection}", {key: body}, token=token)
    return created[key]["id"]


def grant(token, project_id, user_id, role_id):
    call("PUT", f"{KEYSTONE}/v3/projects/{project_id}/users/{user_id}/roles/{role_id}", token=token)


def identity():
    token = token_for(ADMIN)
    roles = {r["name"]: r["id"] for r in call("GET", f"{KEYSTONE}/v3/roles", token=token)[2]["roles"]}
    roles.setdefault("service", get_or_create(token, "roles", "role", {"name": "service"}, {"name": "service"}))

    service_project = get_or_create(token, "projects", "project", {"name": "service"},
                                    {"name": "service", "domain_id": "default"})
    for user, service_type, url in SERVICES:
        user_id = get_or_create(token, "users", "user", {"name": user},
                                {"name": user, "domain_id": "default", "password": ENV["SERVICE_PASSWORD"]})
        grant(token, service_project, user_id, roles["admin"])
        grant(token, service_project, user_id, roles["service"])
        service_id = get_or_create(token, "services", "service", {"type": service_type},
                                   {"name": user, "type": service_type})
        for interface in ("public", "internal", "admin"):
            get_or_create(token, "endpoints", "endpoint", {"service_id": service_id, "interface": interface},
                          {"service_id": service_id, "interface": interface, "url": url, "region_id": REGION})

    for who in (OPERATOR, QUOTA):
        project_id = get_or_create(token, "projects", "project", {"name": who["project"]},
                                   {"name": who["project"], "domain_id": "default"})
        user_id = get_or_create(token, "users", "user", {"name": who["user"]},
                                {"name": who["user"], "domain_id": "default", "password": who["password"],
                                 "default_project_id": project_id})
        grant(token, project_id, user_id, roles["member"])
    progress("service users, catalog, projects and users ready")


def project_id(token, name):
    _, _, found = call("GET", f"{KEYSTONE}/v3/projects?name={name}", token=token)
    return found["projects"][0]["id"]


def compute(path):
    return f"{ENV['NOVA_URL']}/v2.1{path}"


def network(path):
    return f"{ENV['NEUTRON_URL']}/v2.0{path}"


def cloud():
    token = retry("an admin token from Keystone", lambda: token_for(ADMIN))
    nova_headers = {"OpenStack-API-Version": f"compute {COMPUTE_VERSION}"}
    operator_project = project_id(token, OPERATOR["project"])
    quota_project = project_id(token, QUOTA["project"])

    # Neutron returns 500 for GET /v2.0/ports until another query has
    # configured its database mappers, and one network list does that.
    def neutron_warm():
        call("GET", network("/networks"), token=token)
        return call("GET", network("/ports?limit=1"), token=token)[0] == 200
    retry("neutron to list ports", neutron_warm, service="neutron-server")
    progress("neutron lists ports")

    for flavor in FLAVORS.values():
        status, _, _ = retry(f"nova-api to read flavor {flavor['id']}", lambda: call(
            "GET", compute(f"/flavors/{flavor['id']}"), token=token, headers=nova_headers, ok=(200, 404)))
        if status == 404:
            body = {k: v for k, v in flavor.items() if k != "extra_specs"}
            call("POST", compute("/flavors"), {"flavor": body}, token=token, headers=nova_headers)
            if "extra_specs" in flavor:
                call("POST", compute(f"/flavors/{flavor['id']}/os-extra_specs"),
                     {"extra_specs": flavor["extra_specs"]}, token=token, headers=nova_headers)

    call("PUT", compute(f"/os-quota-sets/{operator_project}"), {"quota_set": OPERATOR_COMPUTE_QUOTA},
         token=token, headers=nova_headers)
    call("PUT", compute(f"/os-quota-sets/{quota_project}"), {"quota_set": {"ram": QUOTA_PROJECT_RAM_MB}},
         token=token, headers=nova_headers)
    call("PUT", network(f"/quotas/{operator_project}"), {"quota": OPERATOR_NETWORK_QUOTA}, token=token)

    query = urllib.parse.urlencode({"name": NETWORK["name"], "project_id": operator_project})
    nets = call("GET", network(f"/networks?{query}"), token=token)[2]["networks"]
    if nets:
        net_id = nets[0]["id"]
    else:
        net_id = call("POST", network("/networks"), {"network": {
            "name": NETWORK["name"], "project_id": operator_project}}, token=token)[2]["network"]["id"]
    if not call("GET", network(f"/subnets?network_id={net_id}"), token=token)[2]["subnets"]:
        call("POST", network("/subnets"), {"subnet": {
            "name": NETWORK["subnet"], "network_id": net_id, "project_id": operator_project,
            "ip_version": 4, "cidr": NETWORK["cidr"]}}, token=token)

    progress("flavors, quotas and test-net ready")

    # Neutron creates a project's default security group on that project's
    # first request for security groups.
    operator_token = token_for(OPERATOR)
    call("GET", network(f"/security-groups?project_id={operator_project}"), token=operator_token)

    # From microversion 2.88 on, the hypervisor list calls each compute host
    # over RPC for its uptime. Before the host's queue exists that call waits
    # 60 s, and the fake driver raises NotImplementedError anyway. 2.53 has
    # no uptime field.
    def compute_host_up():
        hypervisors = call("GET", compute("/os-hypervisors/detail"), token=token,
                           headers={"OpenStack-API-Version": "compute 2.53"})[2]["hypervisors"]
        return any(h["hypervisor_hostname"] and h["state"] == "up" and h["status"] == "enabled"
                   for h in hypervisors)
    retry(f"compute host {ENV['COMPUTE_HOST']} to be up and mapped to cell1", compute_host_up,
          timeout=180, service="nova-compute")

    write_clouds_yaml()
    write_json("test-cloud.json", {
        "cloudsYamlPath": os.path.join(CLOUD_DIR, "clouds.yaml"),
        "cloudName": OPERATOR["cloud"],
        "adminCloudName": ADMIN["cloud"],
        "quotaProjectCloudName": QUOTA["cloud"],
        "quotaProjectRamMb": QUOTA_PROJECT_RAM_MB,
        "authUrl": f"{KEYSTONE}/v3",
        "regionName": REGION,
        "projectId": operator_project,
        "quotaProjectId": quota_project,
        "flavors": {key: flavor["name"] for key, flavor in FLAVORS.items()},
        "networkName": NETWORK["name"],
        "computeHost": ENV["COMPUTE_HOST"],
    })
    progress(f"compute host {ENV['COMPUTE_HOST']} takes servers")


def write_clouds_yaml():
    lines = ["# Written by test/cloud/cloud_fixtures.py for the local test cloud; made-up passwords.", "clouds:"]
    for who in (OPERATOR, ADMIN, QUOTA):
        lines += [
            f"  {who['cloud']}:",
            "    auth:",
            f"      auth_url: {KEYSTONE}/v3",
            f"      username: {who['user']}",
            f"      password: {who['password']}",
            f"      project_name: {who['project']}",
            "      user_domain_name: Default",
            "      project_domain_name: Default",
            f"    region_name: {REGION}",
            "    interface: public",
            "    identity_api_version: 3",
        ]
    write_text("clouds.yaml", "\n".join(lines) + "\n")


def write_json(name, value):
    write_text(name, json.dumps(value, indent=2) + "\n")


def write_text(name, text):
    path = os.path.join(CLOUD_DIR, name)
    tmp = f"{path}.tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as out:
        out.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    phases = {"identity": identity, "cloud": cloud}
    if len(sys.argv) != 2 or sys.argv[1] not in phases:
        raise SystemExit(f"usage: cloud_fixtures.py {'|'.join(phases)}")
    try:
        phases[sys.argv[1]]()
    except ApiError as err:
        raise SystemExit(f"fixtures: {err}")
