import type { RetainModule } from '../../kit/module.js';
import { registerBasket } from './commands.js';
import { registerRecommend } from './recommendCommands.js';

/** Market-basket analysis and recommendations: `retain basket …`, `retain recommend …`, their routes. */
export const basketModule: RetainModule = {
  name: 'basket',
  commands: (program, cli) => {
    registerBasket(program, cli);
    registerRecommend(program, cli);
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
