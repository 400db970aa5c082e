/**
 * ELBv2's modeled exceptions, thrown by shape name; the awsQuery protocol sends the model's code
 * (LoadBalancerNotFound, PriorityInUse, …) and status. Wording follows what ELBv2 answers.
 */
import { AwsError } from '../../aws/errors.js';

export const VALIDATION_ERROR = 'ValidationError';

export const validationError = (message: string) => new AwsError(VALIDATION_ERROR, message);
export const loadBalancerNotFound = (what = 'One or more load balancers not found') => new AwsError('LoadBalancerNotFoundException', what);
export const targetGroupNotFound = (what = 'One or more target groups not found') => new AwsError('TargetGroupNotFoundException', what);
export const listenerNotFound = (what = 'One or more listeners not found') => new AwsError('ListenerNotFoundException', what);
export const ruleNotFound = (what = 'One or more rules not found') => new AwsError('RuleNotFoundException', what);
export const duplicateLoadBalancerName = (name: string) => new AwsError('DuplicateLoadBalancerNameException', `A load balancer with the name '${name}' already exists`);
export const duplicateTargetGroupName = (name: string) => new AwsError('DuplicateTargetGroupNameException', `A target group with the same name '${name}' exists, but with different settings`);
export const duplicateListener = () => new AwsError('DuplicateListenerException', 'A listener already exists on this port for this load balancer');
export const priorityInUse = (priority: number) => new AwsError('PriorityInUseException', `Priority '${priority}' is currently in use`);
export const invalidConfiguration = (message: string) => new AwsError('InvalidConfigurationRequestException', message);
export const invalidAction = (message: string) => new AwsError('InvalidLoadBalancerActionException', message);
export const invalidTarget = (message: string) => new AwsError('InvalidTargetException', message);
export const operationNotPermitted = (message: string) => new AwsError('OperationNotPermittedException', message);
export const resourceInUse = (message: string) => new AwsError('ResourceInUseException', message);
export const unsupportedProtocol = (message: string) => new AwsError('UnsupportedProtocolException', message);
export const certificateNotFound = () => new AwsError('CertificateNotFoundException', 'Certificate not found');
export const sslPolicyNotFound = (name: string) => new AwsError('SSLPolicyNotFoundException', `SSL policy '${name}' not found`);
export const duplicateTagKeys = (key: string) => new AwsError('DuplicateTagKeysException', `Tag key '${key}' is duplicated`);
export const tooManyTags = () => new AwsError('TooManyTagsException', 'The quota for the number of tags that can be assigned to a load balancer has been reached');
export const tooManyLoadBalancers = () => new AwsError('TooManyLoadBalancersException', 'The quota for the number of load balancers has been reached');
export const tooManyTargetGroups = () => new AwsError('TooManyTargetGroupsException', 'The quota for the number of target groups has been reached');
export const tooManyListeners = () => new AwsError('TooManyListenersException', 'The quota for the number of listeners per load balancer has been reached');
export const tooManyRules = () => new AwsError('TooManyRulesException', 'The quota for the number of rules per load balancer has been reached');
export const tooManyTargets = () => new AwsError('TooManyTargetsException', 'The quota for the number of targets has been reached');
export const tooManyActions = () => new AwsError('TooManyActionsException', 'The quota for the number of actions per rule has been reached');
export const tooManyCertificates = () => new AwsError('TooManyCertificatesException', 'The quota for the number of certificates per listener has been reached');
export const concurrentModification = () => new AwsError('PriorRequestNotCompleteException', 'A previous request for this resource is still in progress; retry the request');
export const invalidSubnet = (s: string) => new AwsError('SubnetNotFoundException', `The subnet ID '${s.slice(0, 64)}' is not valid`);
export const invalidSecurityGroup = (g: string) => new AwsError('InvalidSecurityGroupException', `The security group '${g.slice(0, 64)}' is not valid`);
