"""The example tracker's AWS, rebuilt in a local moto server: the demo's network and ECS service.

`seed_example()` recreates what the team of docs/examples/operation-snail-trail.md had checked by
hand and found "correct": a VPC with DNS support and hostnames, public subnets in two AZs with
MapPublicIpOnLaunch, a route table sending 0.0.0.0/0 to an attached internet gateway, a security
group open on port 5000, the default network ACL, the image in ECR, and the ECS service on task
definition revision 12 whose network configuration says `assignPublicIp: ENABLED`. And what they
could not see: the service's running (PRIMARY) deployment still carries the old DISABLED
configuration, so its task has no public IP, in whichever subnet it lands ("affects all
subnets"). The diagnosis names that; the checks follow the rest.

The keyword arguments are the knobs the tests turn to build each scenario as "the demo with one
thing changed"; the builder functions are the same steps, usable one by one. They get their
clients from ops.aws, so they talk to whatever AWS_ENDPOINT_URL names; `seed_example` refuses to
run when that is real AWS.

moto quirks this relies on (see ../shared/REFERENCES.md): `update_service` changes the service's
networkConfiguration but not its deployments', which is exactly the stale state; `assignPublicIp`
is ignored, so a task that AWS would give a public IP gets an Elastic IP on its ENI here; ECS tasks
advance one state per DescribeTasks unless pinned, so they are pinned RUNNING; the service's
runningCount comes from the server's MOTO_ECS_SERVICE_RUNNING environment variable.
"""

from __future__ import annotations

import json
import urllib.request
from typing import Any, Literal
from urllib.parse import urlsplit

from ops import aws

CLUSTER = "snail-trail"
SERVICE = "enhanced-ml-service"
FAMILY = "enhanced-ml-service"
REVISION = 12
PORT = 5000
IMAGE_TAG = "v12"
VPC_CIDR = "10.0.0.0/16"
SUBNETS = (("a", "10.0.1.0/24"), ("b", "10.0.2.0/24"))
# One of the AMIs moto ships with (listing them all takes seconds); the demo only runs on moto.
MOTO_AMI = "ami-12c6146b"

AssignPublicIp = Literal["ENABLED", "DISABLED"]


def _tags(kind: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": kind, "Tags": [{"Key": "Name", "Value": name}]}]


def create_network(*, region: str, port: int = PORT) -> dict[str, Any]:
    """The example's VPC: DNS on, public subnets in two AZs, 0.0.0.0/0 -> an attached IGW, the port open."""
    ec2 = aws.client("ec2", region=region)
    vpc_id = ec2.create_vpc(CidrBlock=VPC_CIDR, TagSpecifications=_tags("vpc", "snail-trail"))["Vpc"]["VpcId"]
    # One attribute per call: the API refuses both at once.
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})
    subnet_ids = []
    for zone, cidr in SUBNETS:
        subnet = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=f"{region}{zone}",
            TagSpecifications=_tags("subnet", f"snail-trail-public-{zone}"),
        )["Subnet"]
        ec2.modify_subnet_attribute(SubnetId=subnet["SubnetId"], MapPublicIpOnLaunch={"Value": True})
        subnet_ids.append(subnet["SubnetId"])
    igw_id = ec2.create_internet_gateway(TagSpecifications=_tags("internet-gateway", "snail-trail"))["InternetGateway"][
        "InternetGatewayId"
    ]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)
    route_table_id = ec2.create_route_table(VpcId=vpc_id, TagSpecifications=_tags("route-table", "snail-trail-public"))[
        "RouteTable"
    ]["RouteTableId"]
    ec2.create_route(RouteTableId=route_table_id, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id)
    for subnet_id in subnet_ids:
        ec2.associate_route_table(RouteTableId=route_table_id, SubnetId=subnet_id)
    group_id = ec2.create_security_group(
        GroupName="enhanced-ml-service", Description="Enhanced ML service, port 5000 from anywhere", VpcId=vpc_id
    )["GroupId"]
    ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "tcp", "FromPort": port, "ToPort": port, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    acls = ec2.describe_network_acls(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "default", "Values": ["true"]}]
    )["NetworkAcls"]
    return {
        "vpc_id": vpc_id,
        "subnet_ids": subnet_ids,
        "internet_gateway_id": igw_id,
        "route_table_id": route_table_id,
        "security_group_id": group_id,
        "network_acl_id": acls[0]["NetworkAclId"] if acls else None,
    }


def push_image(*, region: str, repository: str = FAMILY, tag: str = IMAGE_TAG) -> dict[str, Any]:
    """An ECR repository holding `tag` (a minimal manifest: ECR checks the tag, not the layers)."""
    ecr = aws.client("ecr", region=region)
    repo = ecr.create_repository(repositoryName=repository)["repository"]
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 0,
            "digest": "sha256:" + "0" * 64,
        },
        "layers": [],
    }
    ecr.put_image(repositoryName=repository, imageManifest=json.dumps(manifest), imageTag=tag)
    return {"repository": repository, "repository_uri": repo["repositoryUri"], "image_tag": tag}


def register_task_definitions(
    *, region: str, image: str, revision: int = REVISION, port: int = PORT, launch_type: str = "FARGATE"
) -> str:
    """Revisions 1..`revision` of the family (as the team's eleven earlier attempts left them); the last
    runs `image` on `port`. Container-level memory because moto's run_task needs it."""
    ecs = aws.client("ecs", region=region)
    repository = image.rsplit(":", 1)[0]
    arn = ""
    for number in range(1, revision + 1):
        arn = ecs.register_task_definition(
            family=FAMILY,
            networkMode="awsvpc",
            requiresCompatibilities=[launch_type],
            cpu="256",
            memory="512",
            containerDefinitions=[
                {
                    "name": "enhanced-ml-service",
                    "image": image if number == revision else f"{repository}:v{number}",
                    "memory": 512,
                    "essential": True,
                    "portMappings": [{"containerPort": port if number == revision else PORT, "protocol": "tcp"}],
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
    return arn


def network_configuration(subnet_ids: list[str], group_ids: list[str], assign_public_ip: AssignPublicIp) -> dict:
    return {
        "awsvpcConfiguration": {"subnets": subnet_ids, "securityGroups": group_ids, "assignPublicIp": assign_public_ip}
    }


def create_service(
    *,
    region: str,
    task_definition: str,
    subnet_ids: list[str],
    group_ids: list[str],
    launch_type: str = "FARGATE",
    running_assign_public_ip: AssignPublicIp = "DISABLED",
    service_assign_public_ip: AssignPublicIp = "ENABLED",
    desired_count: int = 1,
) -> dict[str, Any]:
    """The cluster and the service: created with `running_assign_public_ip` (what its deployment keeps)
    and then updated to `service_assign_public_ip` (what the console shows) when they differ."""
    ecs = aws.client("ecs", region=region)
    ecs.create_cluster(clusterName=CLUSTER)
    service = ecs.create_service(
        cluster=CLUSTER,
        serviceName=SERVICE,
        taskDefinition=task_definition,
        desiredCount=desired_count,
        launchType=launch_type,
        networkConfiguration=network_configuration(subnet_ids, group_ids, running_assign_public_ip),
    )["service"]
    if service_assign_public_ip != running_assign_public_ip:
        service = ecs.update_service(
            cluster=CLUSTER,
            service=SERVICE,
            networkConfiguration=network_configuration(subnet_ids, group_ids, service_assign_public_ip),
        )["service"]
    return service


def pin_tasks_running(endpoint: str) -> None:
    """moto moves a task one state on (RUNNING -> DEACTIVATING ...) per DescribeTasks; keep it RUNNING."""
    transition = {"model_name": "ecs::task", "transition": {"progression": "manual", "times": 10**9}}
    request = urllib.request.Request(
        f"{endpoint.rstrip('/')}/moto-api/state-manager/set-transition",
        data=json.dumps(transition).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10):
        pass


def start_tasks(
    *,
    region: str,
    service: dict[str, Any],
    count: int = 1,
    launch_type: str = "FARGATE",
) -> list[dict[str, Any]]:
    """Run the service's tasks as ECS would: on its PRIMARY deployment's task definition and network
    configuration, spread over its subnets, in group "service:<name>". moto ignores assignPublicIp,
    so a Fargate task whose deployment says ENABLED gets an Elastic IP on its ENI, as AWS would give it."""
    ecs, ec2 = aws.client("ecs", region=region), aws.client("ec2", region=region)
    deployment = next(d for d in service["deployments"] if d["status"] == "PRIMARY")
    conf = deployment["networkConfiguration"]["awsvpcConfiguration"]
    if launch_type == "EC2":
        _register_container_instance(region=region, subnet_id=conf["subnets"][0])
    tasks = []
    for number in range(count):
        subnet = conf["subnets"][number % len(conf["subnets"])]
        task = ecs.run_task(
            cluster=CLUSTER,
            taskDefinition=deployment["taskDefinition"],
            launchType=launch_type,
            startedBy=deployment["id"],
            group=f"service:{service['serviceName']}",
            networkConfiguration=network_configuration([subnet], conf["securityGroups"], conf["assignPublicIp"]),
        )["tasks"][0]
        if launch_type == "FARGATE" and conf.get("assignPublicIp") == "ENABLED":
            eni_id = _eni_of(task)
            allocation = ec2.allocate_address(Domain="vpc")["AllocationId"]
            ec2.associate_address(AllocationId=allocation, NetworkInterfaceId=eni_id)
        tasks.append(task)
    return tasks


def _eni_of(task: dict[str, Any]) -> str:
    details = next(a for a in task["attachments"] if a["type"] == "ElasticNetworkInterface")["details"]
    return next(d["value"] for d in details if d["name"] == "networkInterfaceId")


def _register_container_instance(*, region: str, subnet_id: str) -> None:
    """EC2 capacity for the cluster: an instance registered as a container instance (moto needs one)."""
    ec2, ecs = aws.client("ec2", region=region), aws.client("ecs", region=region)
    instance = ec2.run_instances(ImageId=MOTO_AMI, MinCount=1, MaxCount=1, InstanceType="t3.medium", SubnetId=subnet_id)
    document = {"instanceId": instance["Instances"][0]["InstanceId"], "region": region}
    ecs.register_container_instance(cluster=CLUSTER, instanceIdentityDocument=json.dumps(document))


def seed_example(
    *,
    region: str = "us-east-1",
    running_assign_public_ip: AssignPublicIp = "DISABLED",
    service_assign_public_ip: AssignPublicIp = "ENABLED",
    launch_type: Literal["FARGATE", "EC2"] = "FARGATE",
    container_port: int = PORT,
    running_tasks: int = 1,
) -> dict[str, Any]:
    """Seed the example into the current AWS endpoint (a moto server) and return the ids it made.

    With the defaults it is the tracker's puzzle: the service says ENABLED, its PRIMARY deployment
    runs DISABLED, its task has no public IP. `running_assign_public_ip="ENABLED"` is the healthy,
    reachable service; the other knobs change one thing each.
    """
    for service in ("ecs", "ec2", "ecr"):  # each may have its own endpoint (AWS_ENDPOINT_URL_ECS ...)
        endpoint = aws.client(service, region=region).meta.endpoint_url
        if (urlsplit(endpoint).hostname or "").endswith((".amazonaws.com", ".amazonaws.com.cn")):
            raise RuntimeError(
                f"Refusing to seed demo resources into real AWS ({endpoint}); set AWS_ENDPOINT_URL to a moto server."
            )
    pin_tasks_running(aws.client("ecs", region=region).meta.endpoint_url)
    network = create_network(region=region, port=PORT)
    image_uri = f"{push_image(region=region)['repository_uri']}:{IMAGE_TAG}"
    task_definition_arn = register_task_definitions(
        region=region, image=image_uri, port=container_port, launch_type=launch_type
    )
    service = create_service(
        region=region,
        task_definition=task_definition_arn,
        subnet_ids=network["subnet_ids"],
        group_ids=[network["security_group_id"]],
        launch_type=launch_type,
        running_assign_public_ip=running_assign_public_ip,
        service_assign_public_ip=service_assign_public_ip,
    )
    tasks = start_tasks(region=region, service=service, count=running_tasks, launch_type=launch_type)
    return {
        "region": region,
        **network,
        "cluster": CLUSTER,
        "service": SERVICE,
        "port": PORT,
        "task_definition_arn": task_definition_arn,
        "repository": FAMILY,
        "image": image_uri,
        "image_tag": IMAGE_TAG,
        "task_arns": [task["taskArn"] for task in tasks],
        "network_interface_ids": [_eni_of(task) for task in tasks],
    }
