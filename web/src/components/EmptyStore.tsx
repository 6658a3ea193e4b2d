import type { ReactNode } from 'react';

/**
 * What a page shows for a store without orders (the API's 404): its message, anything the page adds
 * (a link to the Imports page), and the command that imports orders.
 */
export function EmptyStore({
  message,
  testId,
  children,
}: {
  message: string;
  testId?: string;
  children?: ReactNode;
}) {
  return (
    <div role="note" {...(testId ? { 'data-testid': testId } : {})}>
      <p>{message}</p>
      {children}
      <pre>
        <code>retain import orders orders.csv</code>
      </pre>
    </div>
  );
}
