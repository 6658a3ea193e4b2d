import type { ReactElement } from 'react';
import { OverviewPage } from './pages/Overview';
import { SegmentsPage } from './pages/Segments';
import { ImportsPage } from './pages/Imports';
import { BasketPage } from './pages/Basket';

/**
 * Every signed-in page in one list: its path under `/`, its element, and (if it is in the main
 * navigation) the catalogue key of its label. The router and the navigation are both built from it.
 * A page's labels live in its own file under locales/.
 */
export interface PageEntry {
  path: string;
  element: ReactElement;
  nav?: string;
}

export const PAGES: PageEntry[] = [
  { path: '', element: <OverviewPage />, nav: 'nav.overview' },
  { path: 'segments', element: <SegmentsPage />, nav: 'nav.segments' },
  { path: 'imports', element: <ImportsPage />, nav: 'nav.imports' },
  { path: 'basket', element: <BasketPage />, nav: 'nav.basket' },
];
