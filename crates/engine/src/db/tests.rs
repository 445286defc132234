use super::*;

#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
struct Row {
    n: u32,
}

#[test]
fn put_get_delete_and_unique_names() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::open(&dir.path().join("metadata.db")).unwrap();
    db.put(Table::Containers, "a", "web", &Row { n: 1 })
        .unwrap();
    db.put(Table::Containers, "a", "web", &Row { n: 2 })
        .unwrap();
    assert_eq!(
        db.get::<Row>(Table::Containers, "a").unwrap(),
        Some(Row { n: 2 })
    );
    let clash = db.put(Table::Containers, "b", "web", &Row { n: 3 });
    assert!(clash.is_err(), "a second row with the same name must fail");
    db.delete(Table::Containers, "a").unwrap();
    assert!(db.load_all::<Row>(Table::Containers).unwrap().is_empty());
}

#[test]
fn reopening_keeps_rows_and_does_not_migrate_twice() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("metadata.db");
    Db::open(&path)
        .unwrap()
        .put(Table::Volumes, "v", "v", &Row { n: 7 })
        .unwrap();
    let db = Db::open(&path).unwrap();
    assert_eq!(
        db.load_all::<Row>(Table::Volumes).unwrap(),
        vec![Row { n: 7 }]
    );
}
