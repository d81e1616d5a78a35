/**
 * What a writable store needs of a Redis ACL user beyond its keys (`~<prefix>*`) and the
 * usual data categories (`+@read +@write +@scripting +@connection`): its scripts call `TIME`
 * (a chain append's token is remembered by the server's clock), and `TIME` is in no category
 * but `@fast` and `@all`. Such a user opened, and every cache write worked, but each chain
 * append failed with the server's "The user executing the script can't run this command or
 * subcommand", which names neither the command nor a fix. A writable open asks for it once.
 */
import { ConfigError } from '../../core/index.js';
import type { RedisConnection } from './connection.js';

/** Lua: the one command of the scripts outside the data categories. */
const CLOCK_LUA = "return redis.call('TIME')";

/**
 * Runs `TIME` inside a script, as the store's scripts do; rejects with a {@link ConfigError}
 * (key `url`, or `client` for a given one) naming the command and the grant when the user may
 * not run it, or may not run `EVAL`.
 */
export async function checkScriptCommands(connection: RedisConnection): Promise<void> {
  try {
    await connection.run('check the commands of the scripts', (c) => c.eval(CLOCK_LUA, 0));
  } catch (error) {
    // The connection makes every ACL refusal a ConfigError; anything else (an outage) stays.
    if (!(error instanceof ConfigError)) throw error;
    const reply = error.cause instanceof Error ? error.cause.message : error.message;
    // NOPERM of EVAL itself names it ('eval'); a script's refused call is TIME, the only one.
    const [command, grant] = /'eval'/i.test(reply) ? ['EVAL', '+@scripting'] : ['TIME', '+time'];
    throw new ConfigError(
      `redis storage (${connection.label}): the user may not run ${command}, which the store's scripts ` +
        `need (chain appends read the server's clock with TIME inside a script): grant it ` +
        `(ACL SETUSER <user> ${grant}; README, redis, "ACL users"). Server reply: ${reply}`,
      connection.credentialsKey,
      error,
    );
  }
}
