import type { RetainModule } from '../../kit/module.js';
import type { OpenBasketSource } from './repository.js';
import { registerBasket } from './commands.js';
import { registerRecommend } from './recommendCommands.js';

// Loaded on first use so `retain --help` and pure commands start without DuckDB.
const openBasketSource: OpenBasketSource = async (g) => (await import('./source.js')).openBasketSource(g);

/** Market-basket analysis and recommendations: `retain basket …`, `retain recommend …`, their routes. */
export const basketModule: RetainModule = {
  name: 'basket',
  commands: (program) => {
    registerBasket(program, openBasketSource);
    registerRecommend(program, openBasketSource);
  },
  routes: async () => {
    const [{ registerBasketRoutes }, { registerRecommendRoutes }] = await Promise.all([
      import('./routes.js'),
      import('./recommendRoutes.js'),
    ]);
    return (app, deps, auth) => {
      registerRecommendRoutes(app, deps, auth);
      registerBasketRoutes(app, deps, auth);
    };
  },
};
