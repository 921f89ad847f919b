interface User {
  id: number;
  name: string;
  email?: string;
}

type Lookup<T> = Record<string, T>;

export function index(users: User[]): Lookup<User> {
  const out: Lookup<User> = {};
  for (const u of users) out[u.name] = u;
  return out;
}

export class Repo<T extends { id: number }> {
  private items: T[] = [];
  add(item: T): void {
    this.items.push(item);
  }
}
