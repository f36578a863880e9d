//! The run database's schema: migrations as frozen SQL text, applied in
//! order at open and recorded in `schema_migrations`.
//!
//! An applied migration never changes. A new metric is a field of
//! [`PerformanceMetrics`](atf_engine::PerformanceMetrics) plus a new file
//! here adding its column to `backtest_runs` and `optimization_trials`
//! (`ALTER TABLE … ADD COLUMN …`); the test below fails until the column
//! exists, naming it.

/// `(version, SQL)`, oldest first.
pub(super) const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("../../migrations/0001_runs.sql")),
    (2, include_str!("../../migrations/0002_robustness.sql")),
    (3, include_str!("../../migrations/0003_walkforwards.sql")),
    (4, include_str!("../../migrations/0004_recorded_trials.sql")),
    (5, include_str!("../../migrations/0005_eval_order.sql")),
    (
        6,
        include_str!("../../migrations/0006_walkforward_summary.sql"),
    ),
];

#[cfg(test)]
mod tests {
    use super::super::columns;
    use super::super::RunStore;

    fn columns_of(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    #[test]
    fn every_metric_and_trade_field_has_its_column() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runs.db");
        drop(RunStore::open(&path).unwrap());
        let conn = rusqlite::Connection::open(&path).unwrap();
        for table in ["backtest_runs", "optimization_trials"] {
            let have = columns_of(&conn, table);
            for col in &columns::metrics().columns {
                assert!(
                    have.contains(col),
                    "{table} has no column {col}: add a migration for the new metric"
                );
            }
        }
        let have = columns_of(&conn, "trades");
        for col in &columns::trades().columns {
            assert!(
                have.contains(col),
                "trades has no column {col}: add a migration"
            );
        }
    }

    #[test]
    fn versions_increase() {
        assert!(super::MIGRATIONS.windows(2).all(|w| w[0].0 < w[1].0));
        assert_eq!(super::MIGRATIONS[0].0, 1);
    }
}
