"""Why can't the internet reach this ECS service? Walk the whole path and name every root cause.

The example tracker checked each link by hand (MapPublicIpOnLaunch, the route table, the service's
`assignPublicIp`, DNS) and every one looked right, yet the tasks had no public IP. The links it did
not look at are the ones that decide: the public IP of an awsvpc task lives on the task's ENI and
is given when the task starts, from the network configuration of the deployment that started it,
not from the service's current one nor from the subnet. So the walk follows the real path of a
packet to a running task, in this order:

    service -> running tasks -> launch type -> deployments -> task definition -> image
    -> task ENI public IP -> the subnet's route table -> internet gateway -> network ACL
    -> security groups on the ENI -> VPC Block Public Access

and it does not stop at the first fault: a stale deployment, a closed port and a missing route are
three fixes, and knowing only the first costs the team another round trip.

Each rule is a pure function of the describe responses (`*_findings`), testable without AWS; the
walk (`diagnose_ecs`) makes the calls, batched (one describe per resource type, whatever the
number of tasks), and turns an AWS failure into an "unknown" step that names the operation and,
for AccessDenied, the missing permission, so one unanswered call never hides the other findings.
Evidence keys are field paths into the response of the call the step names, e.g.
`services[0].deployments[0].networkConfiguration.awsvpcConfiguration.assignPublicIp`.

Behind a load balancer the public path is the load balancer's: its scheme, a listener on the port,
its subnets' routes and ACLs, its security groups, then the target group's health and the tasks'
port and groups as the load balancer reaches them (balancer.py). Each finding is tied to the paths
it blocks, so one task of two without a public IP is "partially reachable", not "unreachable", and
a subnet no task runs in is checked too, for the next task (paths.py). Tasks that never start are
read from their stoppedReason (starts.py). IPv6-only tasks are judged over IPv6 (a ::/0 route, IPv6
NACL entries, ::/0 rules), and a ::/0 rule never opens a port to IPv4 clients. AWS Reachability
Analyzer (asynchronous and billed) and the rules inside a Network Firewall are out of scope.
"""

from .balancer import listener_findings, target_health_findings
from .model import (
    ACTIVE_EXCLUSION_STATES,
    ECR_IMAGE,
    EPHEMERAL_PORTS,
    FARGATE_PROVIDERS,
    VERDICTS,
    Code,
    Diagnosis,
    RootCause,
    Step,
    StepStatus,
    Verdict,
)
from .network import (
    AppliedRouteTable,
    applied_route_table,
    block_public_access_findings,
    endpoint_route_findings,
    igw_findings,
    nacl_decision,
    nacl_findings,
    route_findings,
)
from .paths import slug
from .rules import (
    EcrImage,
    assign_public_ip_findings,
    awsvpc,
    deployment_findings,
    ecr_images,
    image_findings,
    is_service_task,
    launch_type_findings,
    port_mapping_findings,
    public_ip_findings,
    same_task_definition,
    task_definition_key,
    task_enis,
    task_findings,
)
from .security_groups import Clients, security_group_findings
from .starts import read_stop, registry_path_findings
from .walk import ACCESS_DENIED, NOT_IMPLEMENTED, STEP_NAMES, STEP_SLUGS, chunked, diagnose_ecs, explain_aws_error

__all__ = [
    "ACCESS_DENIED",
    "Clients",
    "STEP_SLUGS",
    "VERDICTS",
    "assign_public_ip_findings",
    "endpoint_route_findings",
    "listener_findings",
    "read_stop",
    "registry_path_findings",
    "slug",
    "target_health_findings",
    "ACTIVE_EXCLUSION_STATES",
    "AppliedRouteTable",
    "Code",
    "Diagnosis",
    "ECR_IMAGE",
    "EPHEMERAL_PORTS",
    "EcrImage",
    "FARGATE_PROVIDERS",
    "NOT_IMPLEMENTED",
    "RootCause",
    "STEP_NAMES",
    "Step",
    "StepStatus",
    "Verdict",
    "applied_route_table",
    "awsvpc",
    "block_public_access_findings",
    "chunked",
    "deployment_findings",
    "diagnose_ecs",
    "ecr_images",
    "explain_aws_error",
    "igw_findings",
    "image_findings",
    "is_service_task",
    "launch_type_findings",
    "nacl_decision",
    "nacl_findings",
    "port_mapping_findings",
    "public_ip_findings",
    "route_findings",
    "same_task_definition",
    "security_group_findings",
    "task_definition_key",
    "task_enis",
    "task_findings",
]
