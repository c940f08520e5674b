import { Logger } from '@aws-lambda-powertools/logger';

/**
 * The structured logger shared by every function. The service name and log level come from
 * POWERTOOLS_SERVICE_NAME and POWERTOOLS_LOG_LEVEL, set by the NodeFunction construct.
 */
export const logger = new Logger();
