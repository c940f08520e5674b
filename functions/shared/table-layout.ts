/**
 * Table attribute and index names shared by the CDK constructs that create the tables and the
 * adapters that read them.
 */
export const TABLE_KEYS = { partition: 'pk', sort: 'sk', ttl: 'expiresAt' } as const;

/** The connections table's sparse index from a channel to its subscribed connections. */
export const CHANNEL_INDEX = { name: 'byChannel', partition: 'channel', sort: 'connectionId' } as const;
