"""Count the AWS calls of one sync of the live checks, batched per group and one check at a time.

A moto server is started in this process (on a free loopback port, with fake credentials and
nothing of the developer's AWS configuration), and 100 resources are made in it, split evenly over
the `--regions`: 5 VPCs (DNS attributes, an attached internet gateway; the first VPCs route
0.0.0.0/0 to it, the last does not), 40 subnets over those VPCs (half of them associated with that
route table, half left on the main one), 20 security groups, 20 ECS services in two clusters and
15 images in three ECR repositories. 500 checks of eight types look at them, several per resource
(attributes of one subnet, ports of one group, both directions of a NACL; a few facts are checked
twice, as two tracker items would): subnet_attribute 150, subnet_internet_route 40,
nacl_allows_port 80, security_group_ingress 80, vpc_attribute 20, ecs_service_network 60,
ecs_service_steady 40, ecr_image_tag 30.

A sync is what the workers do, without Celery: `services.claim_due()`, then `runner.run_group` for
each (environment, region, type) group it returns, claim after claim until nothing is due (a claim
takes at most 1,000 checks, the dispatcher's limit: only `--scale 2` and up need a second one).
The baseline, in the same run, is the same checks each claimed and run as a group of its own
(`run_group` with one check id): what "one call per check" costs. Batched and baseline syncs
alternate round by round after a warm-up sync (which makes the clients and the first flips); wall
times are medians.

AWS calls are counted twice: from what each run records (`CheckRun.calls`; every run of a group
stores the group's calls, so they are counted once per group) and by a botocore `before-send`
handler on every client the runner gets, which sees each HTTP request (the ground truth); the two
must agree. A group's collection time is its runs' `duration_ms` (the rest of a sync is the database).

The script exits with status 1 when a group makes more calls than its bound, when the two counts
disagree, when batching changes a verdict (status or observed value) compared with the one-check
baseline, or when a check ends in ERROR (the bench's own resources must all answer). The bound
is the issue's target, one call per (type, region) group per 100 resources, applied to each
describe operation a type needs, within the API's own batch limits:
  - subnet_attribute, security_group_ingress: ceil(resources / 100) (one filtered describe);
  - subnet_internet_route: 3 x ceil(subnets / 100) (subnets, their VPCs' route tables, the gateways);
  - nacl_allows_port: 3 x ceil(subnets / 100) (one on AWS; moto's multi-value filter on an ACL's
    associations can miss subnets, which are then looked up by subnet and VPC);
  - ecs_service_network / _steady: sum over clusters of ceil(services / 10) (DescribeServices
    takes one cluster and at most 10 services);
  - ecr_image_tag: sum over repositories of ceil(tags / 100) (DescribeImages takes one repository;
    every checked tag exists here: a missing one fails its batch, and the repository's tagged images
    are then listed, one more call per page);
  - vpc_attribute: one per distinct (VPC, attribute): DescribeVpcAttribute has no batch form, so it
    is not batchable; only checks of the same pair share a call.

    python bench/ops_sync.py [--rounds 3] [--regions us-east-1,eu-west-1] [--scale 1] [--database-url postgres://...]

`--scale 3` makes 300 resources and 1,500 checks, so groups pass 100 resources.

Uses a throwaway SQLite file unless --database-url is given (that database is created and dropped).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import statistics
import sys
import time
from collections import Counter, defaultdict
from typing import Any

from benchdb import bench_database

CHECKS_PER_TYPE = {
    "subnet_attribute": 150,
    "subnet_internet_route": 40,
    "nacl_allows_port": 80,
    "security_group_ingress": 80,
    "vpc_attribute": 20,
    "ecs_service_network": 60,
    "ecs_service_steady": 40,
    "ecr_image_tag": 30,
}
RESOURCES = {"vpcs": 5, "subnets": 40, "security_groups": 20, "ecs_services": 20, "ecr_images": 15}
CLUSTERS = ("bench-a", "bench-b")
REPOSITORIES = ("bench/api", "bench/web", "bench/worker")
PER_CALL = 100  # the target: one call per group per 100 resources
SERVICES_PER_CALL = 10  # DescribeServices' own limit


# --- moto and AWS -----------------------------------------------------------------------------------


def start_moto() -> tuple[Any, str]:
    """A moto server in this process on a free loopback port; boto3 pointed at it and only at it."""
    from moto.server import ThreadedMotoServer

    for name in [name for name in os.environ if name.startswith("AWS_")]:
        del os.environ[name]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_CONFIG_FILE": os.devnull,  # no profile or config of the developer's
            "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
            # Read by the in-process moto server at create_service: the services' runningCount.
            "MOTO_ECS_SERVICE_RUNNING": "1",
        }
    )
    return server, endpoint


def share_botocore_loader() -> None:
    """One loader for every botocore session (as tests/ops/conftest.py does): a client made anew
    does not parse EC2's model again. It only reads botocore's bundled data."""
    import botocore.session

    loaders: dict[Any, Any] = {}
    create_loader = botocore.session.create_loader

    def shared(search_path_string=None):
        if search_path_string not in loaders:
            loaders[search_path_string] = create_loader(search_path_string)
        return loaders[search_path_string]

    botocore.session.create_loader = shared


class RequestCounter:
    """Counts the HTTP requests of every client `ops.aws.client` hands out, by botocore's `before-send`."""

    def __init__(self) -> None:
        self.requests = 0
        self.operations: Counter[str] = Counter()
        self._seen: set[int] = set()

    def install(self) -> None:
        from ops import aws

        make = aws.client

        def client(service: str, **kwargs):
            made = make(service, **kwargs)
            if id(made) not in self._seen:
                self._seen.add(id(made))
                made.meta.events.register("before-send", self._count)
            return made

        aws.client = client

    def _count(self, request, **kwargs) -> None:
        self.requests += 1
        self.operations[kwargs.get("event_name", "").removeprefix("before-send.")] += 1


def build_fleet(regions: list[str]) -> dict[str, list[dict[str, Any]]]:
    """The 100 resources, split evenly over the regions; each described by what the checks need."""
    from ops import aws

    def share(total: int, index: int) -> int:
        return total // len(regions) + (index < total % len(regions))

    fleet: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for index, region in enumerate(regions):
        ec2, ecs, ecr = (aws.client(name, region=region) for name in ("ec2", "ecs", "ecr"))
        vpcs = []
        count = share(RESOURCES["vpcs"], index)
        for number in range(count):
            vpc_id = ec2.create_vpc(CidrBlock=f"10.{number}.0.0/16")["Vpc"]["VpcId"]
            hostnames = number % 2 == 0
            ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
            ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": hostnames})
            igw_id = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
            ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
            routed = count == 1 or number < count - 1  # the last VPC has no route out
            table_id = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
            if routed:
                ec2.create_route(RouteTableId=table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
            vpc = {"region": region, "vpc_id": vpc_id, "table_id": table_id, "routed": routed, "subnets": 0}
            vpc.update({"enableDnsSupport": True, "enableDnsHostnames": hostnames})
            vpcs.append(vpc)
            fleet["vpcs"].append(vpc)
        for number in range(share(RESOURCES["subnets"], index)):
            vpc = vpcs[number % len(vpcs)]
            subnet = ec2.create_subnet(
                VpcId=vpc["vpc_id"],
                CidrBlock=f"10.{vpcs.index(vpc)}.{vpc['subnets']}.0/24",
                AvailabilityZone=f"{region}{'ab'[number % 2]}",
            )["Subnet"]
            vpc["subnets"] += 1
            public = number % 2 == 0
            if public:
                ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
                ec2.associate_route_table(RouteTableId=vpc["table_id"], SubnetId=subnet["SubnetId"])
            fleet["subnets"].append(
                {
                    "region": region,
                    "subnet_id": subnet["SubnetId"],
                    "vpc_id": vpc["vpc_id"],
                    "MapPublicIpOnLaunch": public,
                }
            )
        for number in range(share(RESOURCES["security_groups"], index)):
            vpc = vpcs[number % len(vpcs)]
            group_id = ec2.create_security_group(GroupName=f"bench-{number}", Description="bench", VpcId=vpc["vpc_id"])[
                "GroupId"
            ]
            ports = (5000, 443) if number % 2 == 0 else (443,)
            ec2.authorize_security_group_ingress(
                GroupId=group_id,
                IpPermissions=[
                    {"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}
                    for port in ports
                ],
            )
            fleet["security_groups"].append({"region": region, "group_id": group_id})
        services = share(RESOURCES["ecs_services"], index)
        if services:
            arn = ecs.register_task_definition(
                family="bench",
                networkMode="awsvpc",
                requiresCompatibilities=["FARGATE"],
                cpu="256",
                memory="512",
                containerDefinitions=[{"name": "bench", "image": "bench:v1", "memory": 512, "essential": True}],
            )["taskDefinition"]["taskDefinitionArn"]
            for cluster in CLUSTERS:
                ecs.create_cluster(clusterName=cluster)
            subnets = [s["subnet_id"] for s in fleet["subnets"] if s["region"] == region][:2]
            groups = [g["group_id"] for g in fleet["security_groups"] if g["region"] == region][:1]
            for number in range(services):
                assign = "ENABLED" if number % 2 == 0 else "DISABLED"
                cluster = CLUSTERS[number % len(CLUSTERS)]
                name = f"service-{number:02}"
                ecs.create_service(
                    cluster=cluster,
                    serviceName=name,
                    taskDefinition=arn,
                    desiredCount=1,
                    launchType="FARGATE",
                    networkConfiguration={
                        "awsvpcConfiguration": {"subnets": subnets, "securityGroups": groups, "assignPublicIp": assign}
                    },
                )
                fleet["ecs_services"].append(
                    {
                        "region": region,
                        "cluster": cluster,
                        "service": name,
                        "assignPublicIp": assign,
                        "subnets": sorted(subnets),
                        "securityGroups": sorted(groups),
                        "revision": 1,
                    }
                )
        images = share(RESOURCES["ecr_images"], index)
        if images:
            for repository in REPOSITORIES:
                ecr.create_repository(repositoryName=repository)
            for number in range(images):
                repository = REPOSITORIES[number % len(REPOSITORIES)]
                tag = f"v{number}"
                manifest = {
                    "schemaVersion": 2,
                    "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                    "config": {
                        "mediaType": "application/vnd.docker.container.image.v1+json",
                        "size": number,
                        "digest": f"sha256:{number:064x}",  # a distinct image per tag
                    },
                    "layers": [],
                }
                ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
                fleet["ecr_images"].append({"region": region, "repository": repository, "tag": tag})
    return fleet


def check_specs(fleet: dict[str, list[dict[str, Any]]]) -> list[tuple[str, str, dict[str, Any], Any]]:
    """(type, region, params, expected) for the 500 checks: each type's count cycles over its
    resources (inner) and its variants (outer), so every resource is covered before any repeats."""
    subnet_attributes = [
        ("MapPublicIpOnLaunch", lambda s: s["MapPublicIpOnLaunch"]),
        ("AssignIpv6AddressOnCreation", lambda s: False),
        ("DefaultForAz", lambda s: False),
        ("State", lambda s: "available"),
    ]
    variants: dict[str, tuple[list[dict[str, Any]], list]] = {
        "subnet_attribute": (
            fleet["subnets"],
            [lambda s, a=a, f=f: ({"subnet_id": s["subnet_id"], "attribute": a}, f(s)) for a, f in subnet_attributes],
        ),
        # Route and ingress checks expect the way out / the port open, as a team would: the private
        # subnets and the closed ports FAIL, so both verdicts are compared batched and alone.
        "subnet_internet_route": (fleet["subnets"], [lambda s: ({"subnet_id": s["subnet_id"]}, True)]),
        "nacl_allows_port": (
            fleet["subnets"],
            [
                lambda s: ({"subnet_id": s["subnet_id"], "port": 5000}, True),
                lambda s: ({"subnet_id": s["subnet_id"], "port": 40000, "direction": "egress"}, True),
            ],
        ),
        "security_group_ingress": (
            fleet["security_groups"],
            [lambda g, p=p: ({"group_id": g["group_id"], "port": p}, True) for p in (5000, 443, 22, 80)],
        ),
        "vpc_attribute": (
            fleet["vpcs"],
            [
                lambda v, a=a: ({"vpc_id": v["vpc_id"], "attribute": a}, v[a])
                for a in ("enableDnsSupport", "enableDnsHostnames")
            ],
        ),
        "ecs_service_network": (
            fleet["ecs_services"],
            [
                lambda e, f=f: ({"cluster": e["cluster"], "service": e["service"], "field": f}, e[f])
                for f in ("assignPublicIp", "subnets", "securityGroups")
            ],
        ),
        "ecs_service_steady": (
            fleet["ecs_services"],
            [
                lambda e: ({"cluster": e["cluster"], "service": e["service"]}, True),
                lambda e: ({"cluster": e["cluster"], "service": e["service"], "revision": e["revision"]}, True),
            ],
        ),
        "ecr_image_tag": (fleet["ecr_images"], [lambda i: ({"repository": i["repository"], "tag": i["tag"]}, True)]),
    }
    specs = []
    for kind, count in CHECKS_PER_TYPE.items():
        resources, makers = variants[kind]
        for number in range(count):
            resource = resources[number % len(resources)]
            params, expected = makers[(number // len(resources)) % len(makers)](resource)
            specs.append((kind, resource["region"], params, expected))
    return specs


# --- what a group may cost --------------------------------------------------------------------------


def resource_keys(kind: str, params: list[dict[str, Any]]) -> set:
    """The distinct AWS resources a group's checks look at (for vpc_attribute: (VPC, attribute) pairs)."""
    if kind == "security_group_ingress":
        return {p["group_id"] for p in params}
    if kind == "vpc_attribute":
        return {(p["vpc_id"], p["attribute"]) for p in params}
    if kind.startswith("ecs_service"):
        return {(p["cluster"], p["service"]) for p in params}
    if kind == "ecr_image_tag":
        return {(p["repository"], p["tag"]) for p in params}
    return {p["subnet_id"] for p in params}


def bound(kind: str, keys: set) -> int:
    """The most calls a group of this type may make for these resources (see the module's docstring)."""
    per_100 = math.ceil(len(keys) / PER_CALL)
    if kind in ("subnet_internet_route", "nacl_allows_port"):
        return 3 * per_100
    if kind.startswith("ecs_service"):
        per_cluster = Counter(cluster for cluster, _ in keys)
        return sum(math.ceil(n / SERVICES_PER_CALL) for n in per_cluster.values())
    if kind == "ecr_image_tag":
        per_repository = Counter(repository for repository, _ in keys)
        return sum(math.ceil(n / PER_CALL) for n in per_repository.values())
    if kind == "vpc_attribute":
        return len(keys)
    return per_100


# --- a sync -----------------------------------------------------------------------------------------


def make_due() -> None:
    from django.utils import timezone

    from ops.models import Check

    Check.objects.update(next_due_at=timezone.now() - dt.timedelta(seconds=1), claim_id=None, claimed_until=None)


def sync(counter: RequestCounter, *, one_per_group: bool) -> dict[str, Any]:
    """One sync of every due check, as successive dispatches would make it: claim (at most 1000
    checks a claim, the dispatcher's limit), then run each group (or each check alone); what it cost.
    Groups are keyed (dispatch, environment id, region, type) and, one per group, the check id too."""
    from ops import runner, services
    from ops.models import CheckRun

    make_due()
    began = time.perf_counter()
    groups: dict[tuple, list[int]] = {}
    claim_of: dict[tuple, Any] = {}
    sent: dict[tuple, int] = {}
    dispatch = 0
    while True:
        claim_id, claimed = services.claim_due()
        if not claimed:
            break
        dispatch += 1
        for key, ids in claimed.items():
            chosen = [((dispatch, *key, i), [i]) for i in ids] if one_per_group else [((dispatch, *key), ids)]
            for group, members in chosen:
                before = counter.requests
                recorded = runner.run_group(claim_id=claim_id, check_ids=members)
                assert recorded == len(members), f"group {group}: {recorded} runs recorded for {len(members)} checks"
                sent[group] = counter.requests - before
                groups[group], claim_of[group] = members, claim_id
    wall = time.perf_counter() - began

    run_ids = {services.run_id_for(claim_of[key], check_id): key for key, ids in groups.items() for check_id in ids}
    runs = CheckRun.objects.filter(run_id__in=list(run_ids)).values_list(
        "run_id", "live_check_id", "status", "observed", "calls", "duration_ms"
    )
    recorded_calls: dict[tuple, list[str]] = {}
    collect_ms: dict[tuple, int] = {}
    verdicts: dict[int, tuple[str, str]] = {}
    for run_id, check_id, status, observed, calls, duration_ms in runs:
        key = run_ids[run_id]
        assert recorded_calls.setdefault(key, calls) == calls, f"group {key}: its runs record different calls"
        collect_ms[key] = duration_ms
        verdicts[check_id] = (status, json.dumps(observed, sort_keys=True))
    return {
        "groups": groups,
        "dispatches": dispatch,
        "calls": recorded_calls,
        "sent": sent,
        "wall": wall,
        "collect": sum(collect_ms.values()) / 1000,
        "verdicts": verdicts,
    }


# --- main -------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3, help="timed batched + one-per-group rounds")
    parser.add_argument("--regions", default="us-east-1", help="comma-separated; the resources are split over them")
    parser.add_argument("--scale", type=int, default=1, help="multiply the resources and the checks")
    parser.add_argument("--database-url", default="")
    args = parser.parse_args()
    RESOURCES.update({name: count * args.scale for name, count in RESOURCES.items()})
    CHECKS_PER_TYPE.update({name: count * args.scale for name, count in CHECKS_PER_TYPE.items()})
    regions = [region.strip() for region in args.regions.split(",") if region.strip()]

    server, endpoint = start_moto()
    share_botocore_loader()
    cleanup = bench_database(args.database_url)
    import logging

    from django.db import connection

    for name in ("werkzeug", "botocore"):  # moto's server logs every request, botocore every client
        logging.getLogger(name).setLevel(logging.WARNING)

    from ops import services
    from tracker.services import operation_create, workspace_create

    counter = RequestCounter()
    counter.install()
    setup_began = time.perf_counter()
    fleet = build_fleet(regions)
    specs = check_specs(fleet)
    workspace = workspace_create(name="Bench", actor=None)
    operation = operation_create(workspace=workspace, name="Ops sync bench", actor=None)
    environment = services.environment_create(
        workspace=workspace, name="bench", account_id="123456789012", regions=regions
    )
    for number, (kind, region, params, expected) in enumerate(specs):
        services.check_create(
            operation=operation,
            name=f"{kind} {number}",
            type=kind,
            actor=None,
            environment=environment,
            region=region,
            params=params,
            expected=expected,
        )
    setup = time.perf_counter() - setup_began

    failures: list[str] = []
    warmup = sync(counter, one_per_group=False)  # makes the clients and the first flips; not timed
    batched_runs, single_runs = [], []
    for number in range(args.rounds):
        order = (False, True) if number % 2 == 0 else (True, False)
        for one_per_group in order:
            (single_runs if one_per_group else batched_runs).append(sync(counter, one_per_group=one_per_group))

    # Calls must not vary from round to round, and must agree with what botocore sent.
    for result in [warmup, *batched_runs, *single_runs]:
        for key, calls in result["calls"].items():
            if len(calls) != result["sent"][key]:
                failures.append(f"{key}: runs record {len(calls)} calls, botocore sent {result['sent'][key]}")
    batched, single = batched_runs[0], single_runs[0]
    for result in batched_runs[1:]:
        if result["calls"] != batched["calls"]:
            failures.append("the batched syncs made different calls from round to round")
    for result in [warmup, *batched_runs, *single_runs]:
        if result["verdicts"] != batched["verdicts"]:
            changed = [c for c, v in result["verdicts"].items() if batched["verdicts"].get(c) != v]
            failures.append(f"verdicts differ between syncs for {len(changed)} checks, e.g. check {changed[:3]}")
            break
    statuses = Counter(status for status, _ in batched["verdicts"].values())
    if statuses.get("error"):
        failures.append(f"{statuses['error']} checks ended in ERROR")

    # Per group: the batched calls against its bound, and what the same checks cost one by one.
    from ops.models import Check

    params_of = dict(Check.objects.values_list("id", "params"))
    single_calls_of: dict[tuple, int] = defaultdict(int)
    for key, calls in single["calls"].items():
        single_calls_of[key[:4]] += len(calls)
    print(
        f"database: {connection.vendor}; moto {__import__('moto').__version__} in-process at {endpoint}; "
        f"regions: {', '.join(regions)}"
    )
    print(
        f"{sum(len(v) for v in fleet.values())} resources ("
        + ", ".join(f"{len(v)} {k.replace('_', ' ')}" for k, v in fleet.items())
        + f"), {len(specs)} checks; setup {setup:.1f} s"
    )
    same = "identical" if not any(line.startswith("verdicts differ") for line in failures) else "NOT identical"
    print(f"verdicts: {dict(sorted(statuses.items()))}, {same} batched and one check per group, every round")
    print(f"claims per sync (the dispatcher takes at most 1000 checks a claim): {batched['dispatches']}")
    print()
    print(
        f"{'type':24} {'region':10} {'claim':>5} {'checks':>6} {'resources':>9} "
        f"{'calls':>5} {'bound':>5} {'alone':>5}  operations"
    )
    over = []  # within their bound, but above the plain one call per 100 resources
    for key in sorted(batched["groups"], key=lambda k: (k[3], k[2], k[0])):
        dispatch, _, region, kind = key
        ids = batched["groups"][key]
        keys = resource_keys(kind, [params_of[i] for i in ids])
        calls = batched["calls"][key]
        limit = bound(kind, keys)
        if len(calls) > limit:
            failures.append(
                f"{kind} in {region}, claim {dispatch}: {len(calls)} calls for {len(keys)} resources, bound {limit}"
            )
        elif len(calls) > math.ceil(len(keys) / PER_CALL):
            over.append(f"{kind} in {region} ({len(calls)})")
        operations = ", ".join(f"{name} x{n}" for name, n in Counter(calls).items())
        print(
            f"{kind:24} {region:10} {dispatch:5} {len(ids):6} {len(keys):9} {len(calls):5} {limit:5} "
            f"{single_calls_of[key]:5}  {operations}"
        )
    print("above one call per 100 resources, within the API's limits:", ", ".join(over) or "none")

    def totals(results: list[dict[str, Any]]) -> tuple[int, int, float, float]:
        first = results[0]
        calls = sum(len(c) for c in first["calls"].values())
        return (
            len(first["groups"]),
            calls,
            statistics.median(r["wall"] for r in results),
            statistics.median(r["collect"] for r in results),
        )

    b_groups, b_calls, b_wall, b_collect = totals(batched_runs)
    s_groups, s_calls, s_wall, s_collect = totals(single_runs)
    b_sent, s_sent = sum(batched["sent"].values()), sum(single["sent"].values())
    vpc = [k for k in batched["groups"] if k[3] == "vpc_attribute"]
    vpc_calls = sum(len(batched["calls"][k]) for k in vpc)
    print()
    print(f"median of {args.rounds} syncs each, batched and one check per group alternating, after a warm-up sync")
    print(
        f"{'sync':22} {'checks':>6} {'groups':>6} {'calls':>6} {'sent':>6} {'calls/check':>11} "
        f"{'wall s':>7} {'collect s':>9} {'checks/s':>8}"
    )
    for name, groups, calls, sent, wall, collect in (
        ("batched (per group)", b_groups, b_calls, b_sent, b_wall, b_collect),
        ("one check per group", s_groups, s_calls, s_sent, s_wall, s_collect),
    ):
        print(
            f"{name:22} {len(specs):6} {groups:6} {calls:6} {sent:6} {calls / len(specs):11.3f} "
            f"{wall:7.2f} {collect:9.2f} {len(specs) / wall:8.0f}"
        )
    print(
        f"one-per-group / batched: calls {s_calls / b_calls:.1f}x, wall {s_wall / b_wall:.2f}x, "
        f"collect {s_collect / b_collect:.1f}x"
    )
    print(
        f"batched calls without vpc_attribute (no batch API): {b_calls - vpc_calls} for "
        f"{len(specs) - sum(len(batched['groups'][k]) for k in vpc)} checks; vpc_attribute: {vpc_calls} calls for "
        f"{sum(len(batched['groups'][k]) for k in vpc)} checks"
    )

    cleanup()
    connection.close()
    server.stop()
    if failures:
        print("FAIL:")
        for line in failures:
            print(f"  {line}")
        return 1
    print("every group within its bound; CallLog and before-send agree; batching changed no verdict")
    return 0


if __name__ == "__main__":
    sys.exit(main())
