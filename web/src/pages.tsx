import { lazy, type ReactElement } from 'react';
import { OverviewPage } from './pages/Overview';

// The Overview (the first page) is in the entry chunk; every other page loads when first opened.
const CohortsPage = lazy(() => import('./pages/Cohorts').then((m) => ({ default: m.CohortsPage })));
const LtvPage = lazy(() => import('./pages/Ltv').then((m) => ({ default: m.LtvPage })));
const MessagesPage = lazy(() => import('./pages/Messages').then((m) => ({ default: m.MessagesPage })));
const CustomerPage = lazy(() => import('./pages/Customer').then((m) => ({ default: m.CustomerPage })));
const CustomersPage = lazy(() => import('./pages/Customers').then((m) => ({ default: m.CustomersPage })));
const PredictionsPage = lazy(() =>
  import('./pages/Predictions').then((m) => ({ default: m.PredictionsPage })),
);
const SegmentsPage = lazy(() => import('./pages/Segments').then((m) => ({ default: m.SegmentsPage })));
const TemplatesPage = lazy(() => import('./pages/Templates').then((m) => ({ default: m.TemplatesPage })));
const ApiKeysPage = lazy(() => import('./pages/ApiKeys').then((m) => ({ default: m.ApiKeysPage })));
const SettingsPage = lazy(() => import('./pages/Settings').then((m) => ({ default: m.SettingsPage })));
const UsersPage = lazy(() => import('./pages/Users').then((m) => ({ default: m.UsersPage })));
const ImportsPage = lazy(() => import('./pages/Imports').then((m) => ({ default: m.ImportsPage })));
const BasketPage = lazy(() => import('./pages/Basket').then((m) => ({ default: m.BasketPage })));
const LoyaltyPage = lazy(() => import('./pages/Loyalty').then((m) => ({ default: m.LoyaltyPage })));
const CampaignsPage = lazy(() => import('./pages/Campaigns').then((m) => ({ default: m.CampaignsPage })));
const CampaignNewPage = lazy(() =>
  import('./pages/CampaignNew').then((m) => ({ default: m.CampaignNewPage })),
);
const CampaignPage = lazy(() => import('./pages/CampaignDetail').then((m) => ({ default: m.CampaignPage })));
const FlowsPage = lazy(() => import('./pages/Flows').then((m) => ({ default: m.FlowsPage })));
const FlowNewPage = lazy(() => import('./pages/FlowsNew').then((m) => ({ default: m.FlowNewPage })));
const FlowPage = lazy(() => import('./pages/FlowsDetail').then((m) => ({ default: m.FlowPage })));
const SurveysPage = lazy(() => import('./pages/Surveys').then((m) => ({ default: m.SurveysPage })));
const SurveyNewPage = lazy(() => import('./pages/SurveysNew').then((m) => ({ default: m.SurveyNewPage })));
const SurveyPage = lazy(() => import('./pages/SurveysDetail').then((m) => ({ default: m.SurveyPage })));
const SubscriptionsPage = lazy(() =>
  import('./pages/Subscriptions').then((m) => ({ default: m.SubscriptionsPage })),
);
const SubscriptionNewPage = lazy(() =>
  import('./pages/SubscriptionsNew').then((m) => ({ default: m.SubscriptionNewPage })),
);
const SubscriptionPage = lazy(() =>
  import('./pages/SubscriptionDetail').then((m) => ({ default: m.SubscriptionPage })),
);
const TasksPage = lazy(() => import('./pages/Tasks').then((m) => ({ default: m.TasksPage })));
const TaskPage = lazy(() => import('./pages/TaskDetail').then((m) => ({ default: m.TaskPage })));

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
  { path: 'campaigns', element: <CampaignsPage />, nav: 'nav.campaigns' },
  { path: 'campaigns/new', element: <CampaignNewPage /> },
  { path: 'campaigns/:name', element: <CampaignPage /> },
  { path: 'flows', element: <FlowsPage />, nav: 'nav.flows' },
  { path: 'flows/new', element: <FlowNewPage /> },
  { path: 'flows/:name', element: <FlowPage /> },
  { path: 'loyalty', element: <LoyaltyPage />, nav: 'nav.loyalty' },
  { path: 'loyalty/program', element: <LoyaltyPage view="program" /> },
  { path: 'loyalty/members/:customer', element: <LoyaltyPage view="member" /> },
  { path: 'subscriptions', element: <SubscriptionsPage />, nav: 'nav.subscriptions' },
  { path: 'subscriptions/plans', element: <SubscriptionsPage view="plans" /> },
  { path: 'subscriptions/report', element: <SubscriptionsPage view="report" /> },
  { path: 'subscriptions/new', element: <SubscriptionNewPage /> },
  { path: 'subscriptions/:id', element: <SubscriptionPage /> },
  { path: 'surveys', element: <SurveysPage />, nav: 'nav.surveys' },
  { path: 'surveys/new', element: <SurveyNewPage /> },
  { path: 'surveys/:name', element: <SurveyPage /> },
  { path: 'tasks', element: <TasksPage />, nav: 'nav.tasks' },
  { path: 'tasks/:id', element: <TaskPage /> },
  // Data and the store
  { path: 'imports', element: <ImportsPage />, nav: 'nav.imports' },
  { path: 'settings', element: <SettingsPage />, nav: 'nav.settings' },
  { path: 'settings/users', element: <UsersPage /> },
  { path: 'settings/keys', element: <ApiKeysPage /> },
];
