/**
 * Table attribute and index names shared by the CDK constructs that create the tables and the
 * adapters that read them.
 */
export const TABLE_KEYS = { partition: 'pk', sort: 'sk', ttl: 'expiresAt' } as const;

/**
 * The connections table's sparse index from a channel's index key (`system_metrics`,
 * `metrics:cpu_usage`: the channel without its label matchers) to the subscribed connections.
 * KEYS_ONLY: the projected table sort key (`SUB#<full channel>`) carries the full channel text.
 */
export const CHANNEL_INDEX = { name: 'byChannel', partition: 'channel', sort: 'connectionId' } as const;
