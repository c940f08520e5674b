/**
 * A stage's HTTP API as the scripts call it: JSON in and out, the bearer token when given, and a
 * refusal thrown as `METHOD /path answered <status>: <first 500 characters of the answer>`.
 */
export function apiClient(url: string, token: string | undefined) {
  const base = url.replace(/\/+$/, '');
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  return async (method: string, path: string, body?: unknown): Promise<unknown> => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.text();
    if (!response.ok)
      throw new Error(`${method} ${path} answered ${response.status}: ${answer.slice(0, 500)}`);
    return answer ? JSON.parse(answer) : undefined;
  };
}
