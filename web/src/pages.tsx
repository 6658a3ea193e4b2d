import type { ReactElement } from 'react';
import { CohortsPage } from './pages/Cohorts';
import { LtvPage } from './pages/Ltv';
import { OverviewPage } from './pages/Overview';
import { MessagesPage } from './pages/Messages';
import { CustomerPage } from './pages/Customer';
import { CustomersPage } from './pages/Customers';
import { PredictionsPage } from './pages/Predictions';
import { SegmentsPage } from './pages/Segments';
import { TemplatesPage } from './pages/Templates';
import { ApiKeysPage } from './pages/ApiKeys';
import { SettingsPage } from './pages/Settings';
import { UsersPage } from './pages/Users';
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
  // Measure
  { path: '', element: <OverviewPage />, nav: 'nav.overview' },
  { path: 'cohorts', element: <CohortsPage />, nav: 'nav.cohorts' },
  { path: 'ltv', element: <LtvPage />, nav: 'nav.ltv' },
  { path: 'customers', element: <CustomersPage />, nav: 'nav.customers' },
  { path: 'customers/:id', element: <CustomerPage /> },
  // Predict
  { path: 'predictions', element: <PredictionsPage />, nav: 'nav.predictions' },
  { path: 'basket', element: <BasketPage />, nav: 'nav.basket' },
  // Act
  { path: 'segments', element: <SegmentsPage />, nav: 'nav.segments' },
  { path: 'messages', element: <MessagesPage />, nav: 'nav.messages' },
  { path: 'templates', element: <TemplatesPage /> },
  // Data and the store
  { path: 'imports', element: <ImportsPage />, nav: 'nav.imports' },
  { path: 'settings', element: <SettingsPage />, nav: 'nav.settings' },
  { path: 'settings/users', element: <UsersPage /> },
  { path: 'settings/keys', element: <ApiKeysPage /> },
];
