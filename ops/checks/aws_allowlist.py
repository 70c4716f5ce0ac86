"""The AWS operations the free-form `aws_call` check may make: control-plane METADATA only.

A check's observed value is shown to everyone who can see its operation (pages, API, run history,
webhook payloads), so `aws_call` must never read data: table items, objects, log events, queue
messages, parameters, secrets, user data, environment variables, templates, source code. Until
issue #13 it accepted any Describe*/List*/Get* operation minus a denylist, and `dynamodb.GetItem`,
`ec2.DescribeInstanceAttribute(userData)` and `logs.GetLogEvents` showed a card number, a password
and a log line to every viewer. This module is the reviewed, deny-by-default replacement: an
operation is allowed only when it is listed below.

What it takes to list one (tests/security/test_aws_allowlist.py checks each of these):
- it exists in botocore's model of the service and reads (Describe/List/Get; GET on REST APIs);
- its output describes configuration or state, never content. Every member of its output shape was
  looked at: nothing botocore marks `sensitive` and nothing named like data or a secret (user data,
  environment, password, secret, token, credential, template, body, payload...) unless it is
  dropped from the answer (REDACTED) or reviewed as harmless in the test;
- it is not one of DATA_READS.

The typed checks (ops/checks/network.py, ecs.py) and the ECS diagnosis (ops/diagnosis) make some
calls that are NOT allowed here (ecs.DescribeTaskDefinition, ecs.DescribeTasks): they show only a
verdict and chosen fields (port mappings, image URIs), never the answer, so the role needs them
(BUILT_IN_CALLS) while `aws_call` may not make them. `iam_actions()` is the policy of
docs/iam-policy.md: the union of both, as IAM actions.
"""

from __future__ import annotations

# service (botocore's name) -> the operations (botocore's CamelCase names) aws_call may make.
ALLOWLIST: dict[str, frozenset[str]] = {
    # EC2: the network and compute inventory a rollout is checked against (VPCs, subnets, routes,
    # gateways, security groups, NACLs, ENIs, instances, addresses, endpoints, AMIs, volumes).
    # Tags and descriptions are labels. NOT DescribeInstanceAttribute (its userData attribute is the
    # instance's user data: bootstrap scripts with passwords), DescribeLaunchTemplateVersions /
    # GetLaunchTemplateData (UserData), GetConsoleOutput / GetConsoleScreenshot (what the instance
    # printed), GetPasswordData (the Windows password), DescribeVpnConnections (the tunnels'
    # pre-shared keys in CustomerGatewayConfiguration), DescribeSpotFleetRequests (launch
    # specifications with UserData).
    "ec2": frozenset(
        {
            "DescribeAddresses",
            "DescribeAvailabilityZones",
            "DescribeDhcpOptions",
            "DescribeEgressOnlyInternetGateways",
            "DescribeFlowLogs",
            "DescribeImages",
            "DescribeInstanceStatus",
            "DescribeInstances",  # no UserData in this shape: that is DescribeInstanceAttribute
            "DescribeInternetGateways",
            "DescribeLaunchTemplates",  # names and versions only; the data is in ...Versions
            "DescribeManagedPrefixLists",
            "DescribeNatGateways",
            "DescribeNetworkAcls",
            "DescribeNetworkInterfaces",
            "DescribePrefixLists",
            "DescribeRegions",
            "DescribeRouteTables",
            "DescribeSecurityGroupRules",
            "DescribeSecurityGroups",
            "DescribeSubnets",
            "DescribeTags",
            "DescribeTransitGatewayAttachments",
            "DescribeVolumes",
            "DescribeVpcAttribute",
            "DescribeVpcBlockPublicAccessExclusions",
            "DescribeVpcBlockPublicAccessOptions",
            "DescribeVpcEndpoints",  # the endpoint policy is access configuration
            "DescribeVpcPeeringConnections",
            "DescribeVpcs",
        }
    ),
    # ECS: clusters, services (deployments, network configuration, counts, events) and the ARNs of
    # tasks and task definitions. NOT DescribeTaskDefinition: containerDefinitions[].environment
    # holds plain-text values teams put database URLs and API keys in, and command, entryPoint,
    # dockerLabels and repositoryCredentials can carry them too; too many places to redact, so it
    # stays out (the service's taskDefinition ARN and revision are in DescribeServices). NOT
    # DescribeTasks: overrides.containerOverrides[].environment / command are the same values, set
    # per run. (The diagnosis reads both for its verdict, which shows only ports and images.)
    "ecs": frozenset(
        {
            "DescribeCapacityProviders",
            "DescribeClusters",
            "DescribeContainerInstances",
            "DescribeServiceDeployments",
            "DescribeServices",  # secretOptions there are secret ARNs (references), not values
            "DescribeTaskSets",
            "ListClusters",
            "ListContainerInstances",
            "ListServiceDeployments",
            "ListServices",
            "ListTaskDefinitionFamilies",
            "ListTaskDefinitions",
            "ListTasks",
        }
    ),
    # ELBv2: load balancers, listeners, rules, target groups and target health are routing
    # configuration and state. Listeners and rules may hold an OIDC action's ClientSecret: dropped
    # from the answer (REDACTED) before any expression sees it.
    "elbv2": frozenset(
        {
            "DescribeListenerAttributes",
            "DescribeListenerCertificates",
            "DescribeListeners",
            "DescribeLoadBalancerAttributes",
            "DescribeLoadBalancers",
            "DescribeRules",
            "DescribeSSLPolicies",
            "DescribeTags",
            "DescribeTargetGroupAttributes",
            "DescribeTargetGroups",
            "DescribeTargetHealth",
        }
    ),
    # ECR: repositories and images (tags, digests, push dates, scan summaries) and the policies on
    # them. NOT GetAuthorizationToken (a docker password), GetDownloadUrlForLayer (a link to the
    # image's layers: its files) or BatchGetImage (the image manifests).
    "ecr": frozenset(
        {
            "DescribeImages",
            "DescribeRepositories",
            "GetLifecyclePolicy",
            "GetRepositoryPolicy",
            "ListImages",
        }
    ),
    # RDS: instances, clusters, subnet and parameter groups, snapshots: engine, class, endpoints,
    # backup and encryption settings. A pending master password change is dropped (REDACTED);
    # MasterUserSecret is the ARN of the Secrets Manager secret, not its value. NOT
    # DownloadDBLogFilePortion (log contents) or DescribeDBLogFiles (not needed).
    "rds": frozenset(
        {
            "DescribeDBClusterParameterGroups",
            "DescribeDBClusterSnapshots",
            "DescribeDBClusters",
            "DescribeDBInstances",
            "DescribeDBParameterGroups",
            "DescribeDBParameters",
            "DescribeDBSnapshots",
            "DescribeDBSubnetGroups",
        }
    ),
    # Route 53: hosted zones, their records and health checks. Records are DNS configuration that
    # resolvers serve (a rollout checks that api.example.com now aliases the new load balancer);
    # a private zone's records name internal hosts and addresses, as DescribeInstances and
    # DescribeNetworkInterfaces already do, and TXT records hold what is published anyway (SPF,
    # DKIM public keys, domain verification strings).
    "route53": frozenset(
        {
            "GetHealthCheck",
            "GetHealthCheckStatus",
            "GetHostedZone",
            "ListHealthChecks",
            "ListHostedZones",
            "ListHostedZonesByName",
            "ListResourceRecordSets",
        }
    ),
    # CloudWatch: alarms and their state. NOT GetMetricData / GetMetricStatistics: metric values
    # include custom metrics, which can be business figures (orders, revenue); an alarm on the
    # metric gives the state a rollout needs. NOT DescribeAlarmHistory (its HistoryData carries
    # the datapoints).
    "cloudwatch": frozenset({"DescribeAlarms", "DescribeAlarmsForMetric"}),
    # CloudWatch Logs: which log groups and streams exist, retention, KMS key, metric and
    # subscription filters. NOT GetLogEvents, FilterLogEvents, GetLogRecord, GetQueryResults,
    # StartLiveTail: the log lines themselves.
    "logs": frozenset(
        {
            "DescribeLogGroups",
            "DescribeLogStreams",  # uploadSequenceToken is a write-order counter, not a credential
            "DescribeMetricFilters",
            "DescribeSubscriptionFilters",
        }
    ),
    # Lambda: which version an alias points at (with its weights), concurrency, function URLs,
    # event source mappings, the resource policy. NOT ListFunctions, GetFunction,
    # GetFunctionConfiguration or ListVersionsByFunction: every one of them returns the function's
    # Environment.Variables, where Lambda functions keep their secrets (GetFunction also returns a
    # link to the code). No function-configuration read is allowed at all.
    "lambda": frozenset(
        {
            "GetAlias",
            "GetEventSourceMapping",
            "GetFunctionConcurrency",
            "GetFunctionUrlConfig",
            "GetPolicy",
            "GetProvisionedConcurrencyConfig",
            "ListAliases",
            "ListEventSourceMappings",
            "ListFunctionUrlConfigs",
            "ListProvisionedConcurrencyConfigs",
        }
    ),
    # Auto Scaling: groups (sizes, launch template references, instances), their activities,
    # policies, hooks, schedules, refreshes, warm pools. NOT DescribeLaunchConfigurations: each
    # launch configuration carries its UserData.
    "autoscaling": frozenset(
        {
            "DescribeAutoScalingGroups",
            "DescribeAutoScalingInstances",
            "DescribeInstanceRefreshes",
            "DescribeLifecycleHooks",
            "DescribePolicies",
            "DescribeScalingActivities",
            "DescribeScheduledActions",
            "DescribeWarmPool",
        }
    ),
    # S3: bucket configuration only (versioning, encryption, public access, policy, ACL, logging,
    # lifecycle, replication, CORS, website, notifications, tags, location) and the list of buckets.
    # Nothing per object: NOT GetObject (contents), ListObjects / ListObjectsV2 / ListObjectVersions
    # (object keys name customers' files: invoices/jane-doe.pdf), GetObjectAttributes /
    # GetObjectAcl / GetObjectTagging (per-object data). GetBucketEncryption's KMSMasterKeyID is
    # marked sensitive by botocore and dropped (REDACTED); SSEAlgorithm and BucketKeyEnabled stay.
    "s3": frozenset(
        {
            "GetBucketAcl",
            "GetBucketCors",
            "GetBucketEncryption",
            "GetBucketLifecycleConfiguration",
            "GetBucketLocation",
            "GetBucketLogging",
            "GetBucketNotificationConfiguration",
            "GetBucketOwnershipControls",
            "GetBucketPolicy",
            "GetBucketPolicyStatus",
            "GetBucketReplication",
            "GetBucketTagging",
            "GetBucketVersioning",
            "GetBucketWebsite",
            "GetPublicAccessBlock",
            "ListBuckets",
        }
    ),
    # ACM: a certificate's domains, status, expiry, renewal and where it is in use. There is no
    # private key in these answers (ExportCertificate, which has one, is not a read). NOT
    # GetCertificate: the certificate body, not needed for a check.
    "acm": frozenset({"DescribeCertificate", "ListCertificates"}),
    # DynamoDB: tables' schema, status, size, backups and TTL settings. NOT GetItem, BatchGetItem,
    # Query, Scan, ExecuteStatement: the items.
    "dynamodb": frozenset({"DescribeContinuousBackups", "DescribeTable", "DescribeTimeToLive", "ListTables"}),
    # SQS: queues, their attributes (timeouts, redrive policy, approximate counts, policy) and
    # dead-letter sources. NOT ReceiveMessage: the messages.
    "sqs": frozenset({"GetQueueAttributes", "GetQueueUrl", "ListDeadLetterSourceQueues", "ListQueues"}),
}

# Members dropped from an allowed operation's answer before the expression sees it, as paths
# ("A[].B" walks a list, "A.*.B" a map's values). Each ends in a member name.
REDACTED: dict[tuple[str, str], tuple[str, ...]] = {
    # OIDC authentication actions: the client secret (AWS should not echo it; never shown if it does).
    ("elbv2", "DescribeListeners"): ("Listeners[].DefaultActions[].AuthenticateOidcConfig.ClientSecret",),
    ("elbv2", "DescribeRules"): ("Rules[].Actions[].AuthenticateOidcConfig.ClientSecret",),
    # A pending master password change (botocore marks it sensitive).
    ("rds", "DescribeDBInstances"): ("DBInstances[].PendingModifiedValues.MasterUserPassword",),
    ("rds", "DescribeDBClusters"): ("DBClusters[].PendingModifiedValues.MasterUserPassword",),
    # The KMS key of the bucket's default encryption (botocore marks it sensitive).
    ("s3", "GetBucketEncryption"): (
        "ServerSideEncryptionConfiguration.Rules[].ApplyServerSideEncryptionByDefault.KMSMasterKeyID",
    ),
}

# Reads of data, not metadata, that look like the operations above: refused with their own message
# saying what they would have shown. Not a denylist (anything unlisted in ALLOWLIST is refused
# anyway): the reasons, and the cases tests/security/test_aws_allowlist.py proves refused.
DATA_READS: dict[tuple[str, str], str] = {
    ("athena", "GetQueryResults"): "a query's result rows",
    ("autoscaling", "DescribeLaunchConfigurations"): "launch configurations' user data",
    ("cloudformation", "DescribeStacks"): "stack outputs and parameters, which can hold secrets",
    ("cloudformation", "GetTemplate"): "a stack's template, which can hold secrets",
    ("cloudfront", "GetDistribution"): "origin custom headers, often a shared secret",
    ("cloudfront", "GetDistributionConfig"): "origin custom headers, often a shared secret",
    ("cloudfront", "ListDistributions"): "origin custom headers, often a shared secret",
    ("cloudwatch", "GetMetricData"): "metric values, which can be business figures",
    ("cloudwatch", "GetMetricStatistics"): "metric values, which can be business figures",
    ("codecommit", "GetBlob"): "source code",
    ("codecommit", "GetFile"): "source code",
    ("codecommit", "GetFolder"): "a repository's files",
    ("dynamodb", "BatchGetItem"): "a table's items",
    ("dynamodb", "ExecuteStatement"): "a table's items",
    ("dynamodb", "GetItem"): "a table's items",
    ("dynamodb", "Query"): "a table's items",
    ("dynamodb", "Scan"): "a table's items",
    ("dynamodbstreams", "GetRecords"): "a table's changed items",
    ("ec2", "DescribeInstanceAttribute"): "an instance's user data",
    ("ec2", "DescribeLaunchTemplateVersions"): "launch templates' user data",
    ("ec2", "DescribeVpnConnections"): "VPN tunnels' pre-shared keys",
    ("ec2", "GetConsoleOutput"): "what an instance printed on its console",
    ("ec2", "GetConsoleScreenshot"): "a screenshot of an instance's console",
    ("ec2", "GetLaunchTemplateData"): "an instance's user data",
    ("ec2", "GetPasswordData"): "a Windows administrator password",
    ("ecr", "BatchGetImage"): "image manifests",
    ("ecr", "GetAuthorizationToken"): "a registry password",
    ("ecr", "GetDownloadUrlForLayer"): "image layers (the image's files)",
    ("ecs", "DescribeTaskDefinition"): "containers' environment variables",
    ("ecs", "DescribeTasks"): "containers' environment overrides",
    ("glue", "GetConnection"): "connection passwords",
    ("glue", "GetConnections"): "connection passwords",
    ("apigateway", "GetApiKey"): "API key values",
    ("apigateway", "GetApiKeys"): "API key values",
    ("iam", "GetAccountAuthorizationDetails"): "the whole account's IAM, policies and all",
    ("iam", "GetCredentialReport"): "every user's credential report",
    ("kinesis", "GetRecords"): "a stream's records",
    ("lambda", "GetFunction"): "a function's environment variables and code",
    ("lambda", "GetFunctionConfiguration"): "a function's environment variables",
    ("lambda", "ListFunctions"): "functions' environment variables",
    ("lambda", "ListVersionsByFunction"): "functions' environment variables",
    ("logs", "FilterLogEvents"): "log events",
    ("logs", "GetLogEvents"): "log events",
    ("logs", "GetLogRecord"): "a log event",
    ("logs", "GetQueryResults"): "log events",
    ("rds", "DownloadDBLogFilePortion"): "a database's log",
    ("s3", "GetObject"): "an object's contents",
    ("s3", "GetObjectAttributes"): "per-object data",
    ("s3", "ListObjectVersions"): "object keys, which name customers' files",
    ("s3", "ListObjects"): "object keys, which name customers' files",
    ("s3", "ListObjectsV2"): "object keys, which name customers' files",
    ("s3", "SelectObjectContent"): "an object's contents",
    ("secretsmanager", "BatchGetSecretValue"): "secret values",
    ("secretsmanager", "GetSecretValue"): "a secret's value",
    ("sqs", "ReceiveMessage"): "queue messages",
    ("ssm", "GetCommandInvocation"): "a command's output",
    ("ssm", "GetParameter"): "parameter values, often secrets",
    ("ssm", "GetParameterHistory"): "parameter values, often secrets",
    ("ssm", "GetParameters"): "parameter values, often secrets",
    ("ssm", "GetParametersByPath"): "parameter values, often secrets",
    ("sts", "GetFederationToken"): "temporary credentials",
    ("sts", "GetSessionToken"): "temporary credentials",
}

# What the typed checks and the ECS diagnosis call (ops/checks/network.py, ecs.py, reachability.py
# via ops/diagnosis/*_steps.py), whether or not aws_call may: the role needs them all. The test reads
# those modules' calls and fails if one is missing here.
BUILT_IN_CALLS: frozenset[tuple[str, str]] = frozenset(
    {
        ("ec2", "DescribeInternetGateways"),
        ("ec2", "DescribeNetworkAcls"),
        ("ec2", "DescribeNetworkInterfaces"),
        ("ec2", "DescribeRouteTables"),
        ("ec2", "DescribeSecurityGroups"),
        ("ec2", "DescribeSubnets"),
        ("ec2", "DescribeVpcAttribute"),
        ("ec2", "DescribeVpcBlockPublicAccessExclusions"),
        ("ec2", "DescribeVpcBlockPublicAccessOptions"),
        ("ec2", "DescribeVpcEndpoints"),  # the diagnosis: firewall endpoints, ECR endpoints
        ("ec2", "GetManagedPrefixListEntries"),  # the diagnosis: security group rules through prefix lists
        ("ecr", "DescribeImages"),
        ("ecs", "DescribeClusters"),
        ("ecs", "DescribeServices"),
        ("ecs", "DescribeTaskDefinition"),  # the diagnosis: port mappings and images only
        ("ecs", "DescribeTasks"),  # the diagnosis: the tasks' ENIs
        ("ecs", "ListTasks"),
        ("elbv2", "DescribeListeners"),  # the diagnosis: the path through a load balancer
        ("elbv2", "DescribeLoadBalancers"),
        ("elbv2", "DescribeRules"),
        ("elbv2", "DescribeTargetGroupAttributes"),  # the diagnosis: does an NLB preserve client IPs
        ("elbv2", "DescribeTargetGroups"),
        ("elbv2", "DescribeTargetHealth"),
    }
)

# IAM's service prefix where it is not botocore's service name.
IAM_PREFIX = {"elbv2": "elasticloadbalancing"}

# IAM actions whose name is not the operation's (S3's are the exceptions).
IAM_ACTION = {
    ("s3", "GetBucketCors"): "GetBucketCORS",
    ("s3", "GetBucketEncryption"): "GetEncryptionConfiguration",
    ("s3", "GetBucketLifecycleConfiguration"): "GetLifecycleConfiguration",
    ("s3", "GetBucketNotificationConfiguration"): "GetBucketNotification",
    ("s3", "GetBucketReplication"): "GetReplicationConfiguration",
    ("s3", "GetPublicAccessBlock"): "GetBucketPublicAccessBlock",
    ("s3", "ListBuckets"): "ListAllMyBuckets",
}

DOC = "docs/iam-policy.md"


def allowed(service: str, operation: str) -> bool:
    return operation in ALLOWLIST.get(service, ())


def pairs() -> list[tuple[str, str]]:
    """Every allowed (service, operation), sorted."""
    return sorted((service, operation) for service, operations in ALLOWLIST.items() for operation in operations)


def iam_action(service: str, operation: str) -> str:
    return f"{IAM_PREFIX.get(service, service)}:{IAM_ACTION.get((service, operation), operation)}"


def iam_actions() -> list[str]:
    """The IAM actions the role Snail Trail assumes needs, and no others: the typed checks' and the
    diagnosis's calls and the allowlist, sorted (the policy in docs/iam-policy.md)."""
    return sorted({iam_action(service, operation) for service, operation in set(pairs()) | BUILT_IN_CALLS})


def iam_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "SnailTrailReadsMetadata", "Effect": "Allow", "Action": iam_actions(), "Resource": "*"}],
    }
