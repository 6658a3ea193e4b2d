import type { ReactElement } from 'react';
import { CustomerPage } from './pages/Customer';
import { CustomersPage } from './pages/Customers';
import { OverviewPage } from './pages/Overview';
import { PredictionsPage } from './pages/Predictions';
import { SegmentsPage } from './pages/Segments';

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
  { path: 'customers', element: <CustomersPage />, nav: 'nav.customers' },
  { path: 'customers/:id', element: <CustomerPage /> },
  { path: 'predictions', element: <PredictionsPage />, nav: 'nav.predictions' },
];
