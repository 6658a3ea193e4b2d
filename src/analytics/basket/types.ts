/**
 * Inputs of the basket layer, as the orders repository hands them over. Money in integer minor
 * units; one currency per store is assumed (the repository converts or filters).
 */

/** One order line. */
export interface BasketLine {
  sku: string;
  quantity: number;
  unitPriceMinor: number;
  /** Line title as ordered (used to recognise fees and postage when the catalogue lacks the SKU). */
  title?: string;
}

/** One order of one customer. */
export interface Basket {
  orderId: string;
  customerId: string;
  orderedAt: Date;
  items: BasketLine[];
}

/** A catalogue entry. */
export interface Product {
  sku: string;
  title: string;
  category?: string;
  priceMinor: number;
  unitCostMinor?: number;
}
