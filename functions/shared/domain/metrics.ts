/** One observation of one series, Prometheus-style. `timestamp` is epoch milliseconds. */
export interface Datapoint {
  readonly name: string;
  readonly value: number;
  readonly timestamp: number;
  readonly labels: Readonly<Record<string, string>>;
}

/** The canonical series identity: the name and the labels sorted by key, as Prometheus writes it. */
export function seriesKey(name: string, labels: Readonly<Record<string, string>>): string {
  const pairs = Object.keys(labels)
    .sort()
    .map((key) => `${key}=${JSON.stringify(labels[key])}`);
  return `${name}{${pairs.join(',')}}`;
}
