/**
 * A registered embedder gets the `CONNECTOME_EMBEDDER_*` service variables that are set whatever
 * its name: the built-ins' variable tables are looked up by own name only, so a name that an
 * ordinary object inherits (`constructor`, `toString`) is not mistaken for a built-in.
 */
import { createEmbedderFromEnv, registerEmbedder } from '../../src/index.js';

describe('registered names that an object inherits', () => {
  it.each(['constructor', 'toString', 'valueOf'])(
    'embedder %s gets the service variables that are set',
    (name) => {
      let seen: unknown;
      registerEmbedder(name, (config) => {
        seen = config;
        return {
          id: `${name}:v1`,
          dimensions: 2,
          embed: async (texts) => texts.map(() => new Float32Array([1, 0])),
        };
      });
      createEmbedderFromEnv({
        CONNECTOME_EMBEDDER_TYPE: name,
        CONNECTOME_EMBEDDER_URL: 'http://127.0.0.1:9/v1',
        CONNECTOME_EMBEDDER_DIMENSIONS: '2',
      });
      expect(seen).toEqual({ url: 'http://127.0.0.1:9/v1', dimensions: 2 });
    },
  );
});
