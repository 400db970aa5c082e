/**
 * AWS managed policies (arn:aws:iam::aws:policy/…): built in, read-only, the same in every
 * account. The documents are AWS's own, trimmed to the services Dockyard speaks.
 */
import { createHash } from 'node:crypto';

export interface AwsManagedPolicy {
  policyName: string;
  path: string;
  arn: string;
  policyId: string;
  description: string;
  document: string;
  /** Epoch seconds. */
  createDate: number;
  updateDate: number;
  defaultVersionId: string;
}

const allow = (Action: string | string[], Resource: string | string[] = '*', extra: Record<string, unknown> = {}) => ({ Effect: 'Allow', Action, Resource, ...extra });

const ECR_READ = [
  'ecr:GetAuthorizationToken',
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetDownloadUrlForLayer',
  'ecr:GetRepositoryPolicy',
  'ecr:DescribeRepositories',
  'ecr:ListImages',
  'ecr:DescribeImages',
  'ecr:BatchGetImage',
  'ecr:GetLifecyclePolicy',
  'ecr:GetLifecyclePolicyPreview',
  'ecr:ListTagsForResource',
  'ecr:DescribeImageScanFindings',
];

const definitions: { name: string; path?: string; description: string; statements: object[]; created: string; version?: string }[] = [
  { name: 'AdministratorAccess', description: 'Provides full access to AWS services and resources.', statements: [allow('*')], created: '2015-02-06T18:39:46Z' },
  {
    name: 'AmazonECS_FullAccess',
    description: 'Provides administrative access to Amazon ECS resources and enables ECS features through access to other AWS service resources, including VPCs, Auto Scaling groups, and CloudFormation stacks.',
    statements: [
      {
        Sid: 'ECSIntegrationsManagementPolicy',
        ...allow([
          'application-autoscaling:*',
          'ecs:*',
          'elasticloadbalancing:*',
          'logs:CreateLogGroup',
          'logs:DescribeLogGroups',
          'logs:FilterLogEvents',
          'servicediscovery:*',
          'ssm:GetParameter',
          'ssm:GetParameters',
          'ssm:GetParametersByPath',
          'iam:ListAttachedRolePolicies',
          'iam:ListInstanceProfiles',
          'iam:ListRoles',
          'ecr:GetAuthorizationToken',
          'ecr:DescribeRepositories',
          'ecr:ListImages',
          'ecr:DescribeImages',
        ]),
      },
      {
        Sid: 'PassRoleForECS',
        ...allow('iam:PassRole', '*', { Condition: { StringLike: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } }),
      },
      {
        Sid: 'ServiceLinkedRoleForECS',
        ...allow('iam:CreateServiceLinkedRole', '*', { Condition: { StringLike: { 'iam:AWSServiceName': 'ecs.amazonaws.com' } } }),
      },
    ],
    created: '2017-11-07T21:36:54Z',
    version: 'v30',
  },
  { name: 'AmazonEC2ContainerRegistryReadOnly', description: 'Provides read-only access to Amazon EC2 Container Registry repositories.', statements: [allow(ECR_READ)], created: '2015-12-21T17:04:57Z', version: 'v3' },
  {
    name: 'AmazonEC2ContainerRegistryPowerUser',
    description: 'Provides full access to Amazon EC2 Container Registry repositories, but does not allow repository deletion or policy changes.',
    statements: [allow([...ECR_READ, 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:PutImage'])],
    created: '2015-12-21T17:05:33Z',
    version: 'v3',
  },
  {
    name: 'AmazonEC2ContainerRegistryFullAccess',
    description: 'Provides administrative access to Amazon ECR resources',
    statements: [allow('ecr:*')],
    created: '2015-12-21T17:06:48Z',
    version: 'v2',
  },
  {
    name: 'AmazonECSTaskExecutionRolePolicy',
    path: '/service-role/',
    description: 'Provides access to other AWS service resources that are required to run Amazon ECS tasks',
    statements: [allow(['ecr:GetAuthorizationToken', 'ecr:BatchCheckLayerAvailability', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchGetImage', 'logs:CreateLogStream', 'logs:PutLogEvents'])],
    created: '2017-11-16T18:48:22Z',
  },
  {
    name: 'AmazonEC2ContainerServiceforEC2Role',
    path: '/service-role/',
    description: 'Default policy for the Amazon EC2 Role for Amazon EC2 Container Service.',
    statements: [
      allow([
        'ecs:DiscoverPollEndpoint',
        'ecs:CreateCluster',
        'ecs:RegisterContainerInstance',
        'ecs:DeregisterContainerInstance',
        'ecs:Poll',
        'ecs:StartTelemetrySession',
        'ecs:UpdateContainerInstancesState',
        'ecs:Submit*',
        'ecr:GetAuthorizationToken',
        'ecr:BatchCheckLayerAvailability',
        'ecr:GetDownloadUrlForLayer',
        'ecr:BatchGetImage',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
      ]),
    ],
    created: '2015-03-19T18:45:18Z',
    version: 'v7',
  },
  { name: 'IAMFullAccess', description: 'Provides full access to IAM via the AWS Management Console.', statements: [allow('iam:*')], created: '2015-02-06T18:40:38Z', version: 'v2' },
  {
    name: 'IAMReadOnlyAccess',
    description: 'Provides read only access to IAM via the AWS Management Console.',
    statements: [allow(['iam:GenerateCredentialReport', 'iam:GenerateServiceLastAccessedDetails', 'iam:Get*', 'iam:List*', 'iam:SimulateCustomPolicy', 'iam:SimulatePrincipalPolicy'])],
    created: '2015-02-06T18:40:39Z',
    version: 'v4',
  },
];

/** A stable ANPA… id per policy name, as AWS's are stable. */
function policyId(name: string): string {
  const digits = createHash('sha256').update(name).digest();
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let id = 'ANPA';
  for (let i = 0; i < 17; i++) id += alphabet[digits[i]! % 32];
  return id;
}

export const AWS_MANAGED_POLICIES: ReadonlyMap<string, AwsManagedPolicy> = new Map(
  definitions.map((d) => {
    const path = d.path ?? '/';
    const arn = `arn:aws:iam::aws:policy${path}${d.name}`;
    const created = Date.parse(d.created) / 1000;
    return [
      arn,
      {
        policyName: d.name,
        path,
        arn,
        policyId: policyId(d.name),
        description: d.description,
        document: JSON.stringify({ Version: '2012-10-17', Statement: d.statements }),
        createDate: created,
        updateDate: created,
        defaultVersionId: d.version ?? 'v1',
      },
    ];
  }),
);
