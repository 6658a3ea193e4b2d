/** Per-customer CLV predictions (model version + as-of), read by segments and reports. */
export function predictionsSchema(): string[] {
  return [
    `CREATE TABLE clv_predictions (
      customer_id BIGINT NOT NULL,
      model_version TEXT NOT NULL,
      as_of TIMESTAMP NOT NULL,
      horizon DOUBLE PRECISION NOT NULL,
      time_unit TEXT NOT NULL,
      expected_purchases DOUBLE PRECISION NOT NULL,
      p_alive DOUBLE PRECISION NOT NULL,
      clv_minor BIGINT,
      currency TEXT NOT NULL,
      created_at TIMESTAMP NOT NULL,
      PRIMARY KEY (customer_id, model_version, as_of)
    )`,
  ];
}
