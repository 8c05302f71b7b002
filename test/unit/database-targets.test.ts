import { describe, expect, it } from 'vitest';
import { parseDatabaseTargets } from '../../src/db/primary.js';

describe('parseDatabaseTargets', () => {
  it('splits a multi-host URL into its servers, each with the rest of the URL', () => {
    const targets = parseDatabaseTargets(
      'postgres://u:p%40ss@db1:5432,db2,[::1]:6543/parley?sslmode=require&target_session_attrs=read-write',
    );
    expect(targets.hosts).toEqual([
      { host: 'db1', port: 5432 },
      { host: 'db2', port: 5432 },
      { host: '::1', port: 6543 },
    ]);
    expect(targets.urlFor(targets.hosts[1]!)).toBe(
      'postgres://u:p%40ss@db2:5432/parley?sslmode=require',
    );
    expect(targets.urlFor(targets.hosts[2]!)).toBe(
      'postgres://u:p%40ss@[::1]:6543/parley?sslmode=require',
    );
  });

  it('keeps a one-server URL without credentials or path', () => {
    const targets = parseDatabaseTargets('postgresql://localhost');
    expect(targets.hosts).toEqual([{ host: 'localhost', port: 5432 }]);
    expect(targets.urlFor(targets.hosts[0]!)).toBe('postgresql://localhost:5432');
  });

  it.each(['postgres://db1,,db2/p', 'postgres://db1:0/p', 'postgres://db1:x/p', 'http://db/p'])(
    'refuses %s',
    (url) => {
      expect(() => parseDatabaseTargets(url)).toThrow();
    },
  );
});
