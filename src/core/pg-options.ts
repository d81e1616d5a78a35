/**
 * The settings a PostgreSQL URL's `options` parameter gives the session, read as the server
 * reads that startup parameter (`pg_split_opts` and `process_postgres_switches`), so that the
 * URL check (`url-params.ts`) sees a setting whatever form it is written in.
 */

/**
 * The server's switches that take a value (its getopt string `B:bC:c:D:d:EeFf:h:ijk:lN:nOPp:r:S:sTt:v:W:-:`):
 * the value is the rest of the word, else the next word. `-c name=value` and `--name=value` set
 * a setting; the others are skipped with their values.
 */
const VALUE_SWITCHES: ReadonlySet<string> = new Set('BCcDdfhkNprStvW-');

/**
 * The words of `options` as the server splits them: at whitespace, a backslash taking the next
 * character as it is (`-c search_path=a\ b` is two words).
 */
function splitWords(options: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  for (let i = 0; i < options.length; i += 1) {
    let char = options[i] as string;
    if (/[ \t\n\v\f\r]/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      continue;
    }
    if (char === '\\' && i + 1 < options.length) {
      i += 1;
      char = options[i] as string;
    }
    word += char;
    inWord = true;
  }
  if (inWord) words.push(word);
  return words;
}

/**
 * The name a `name=value` sets, as the server looks it up: dashes read as underscores, and
 * any case (`--Statement-Timeout=5` sets `statement_timeout`).
 */
function settingName(assignment: string): string {
  const end = assignment.indexOf('=');
  return (end === -1 ? assignment : assignment.slice(0, end)).replaceAll('-', '_').toLowerCase();
}

/**
 * The names of the settings that the text of a URL's `options` parameter sets (`-c name=value`,
 * `-cname=value`, `--name=value`), lower case with underscores, in order. Reads nothing but its
 * argument; text the server would refuse is read as far as it goes (the server reports it).
 */
export function pgOptionsSettings(options: string): string[] {
  const words = splitWords(options);
  const names: string[] = [];
  for (let i = 0; i < words.length; i += 1) {
    const word = words[i] as string;
    // `--` alone ends the switches: the server refuses any word after it.
    if (word === '--') break;
    if (!word.startsWith('-')) continue;
    // Switches without a value may come together (`-ec x=1`) until one that takes a value.
    for (let j = 1; j < word.length; j += 1) {
      const flag = word[j] as string;
      if (!VALUE_SWITCHES.has(flag)) continue;
      let value = word.slice(j + 1);
      if (value === '') {
        i += 1;
        value = words[i] ?? '';
      }
      if (flag === 'c' || flag === '-') names.push(settingName(value));
      break;
    }
  }
  return names;
}
