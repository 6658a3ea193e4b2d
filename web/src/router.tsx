import { createBrowserRouter } from 'react-router';
import { Layout } from './components/Layout';
import { PAGES } from './pages';
import { LoginPage } from './pages/Login';

export const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
  {
    path: '/',
    element: <Layout />,
    children: PAGES.map((p) =>
      p.path === '' ? { index: true, element: p.element } : { path: p.path, element: p.element },
    ),
  },
]);
