//! The shared recurrence table (`recurrence_cases.json`, also run through
//! the API on both stacks): each rule, expanded from its due, yields the
//! expected wall clocks and instants, and a series that ends has exactly
//! `total` dues. Generation (`next_after` on the schedule basis) walks the
//! same dates one task at a time.

use serde_json::Value;
use todo_model::Due;
use todo_model::recurrence::{Recurrence, next_after, occurrences};

fn cases() -> Vec<Value> {
    let text = include_str!("recurrence_cases.json");
    let table: Value = serde_json::from_str(text).expect("the table is JSON");
    table["cases"].as_array().expect("cases").clone()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| a.iter().map(|s| s.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

fn setup(case: &Value) -> (Due, Recurrence) {
    let due: Due = serde_json::from_value(case["due"].clone()).expect("due");
    let rule = serde_json::json!({"rrule": case["rrule"]});
    let recurrence = Recurrence::from_json(&rule, Some(&due))
        .unwrap_or_else(|e| panic!("{}: rule refused: {}", case["name"], e.message));
    (due, recurrence)
}

#[test]
fn every_case_expands_to_its_expected_dates() {
    let cases = cases();
    assert!(cases.len() >= 40, "the table lost cases");
    for case in &cases {
        let name = &case["name"];
        let (due, recurrence) = setup(case);
        let expect = strings(&case["expect"]);
        let got = occurrences(&recurrence, &due, 1, expect.len()).unwrap();
        let locals: Vec<&str> = got.iter().map(|o| o.local.as_str()).collect();
        assert_eq!(locals, expect, "{name}");
        let expect_at = strings(&case["expect_at"]);
        if !expect_at.is_empty() {
            let ats: Vec<&str> = got.iter().map(|o| o.at.as_str()).collect();
            assert_eq!(ats, expect_at, "{name}");
        }
        if let Some(total) = case["total"].as_u64() {
            let all = occurrences(&recurrence, &due, 1, 1000).unwrap();
            assert_eq!(all.len() as u64, total, "{name}: length of the series");
        }
    }
}

#[test]
fn generation_on_the_schedule_walks_the_same_dates() {
    for case in &cases() {
        let name = &case["name"];
        let (first, recurrence) = setup(case);
        let expect = strings(&case["expect"]);
        let mut due = first.clone();
        let mut index = 1;
        let mut walked = vec![due.instant()];
        while walked.len() < expect.len() {
            let (next, next_index) = next_after(&recurrence, &due, index, due.instant())
                .unwrap_or_else(|| panic!("{name}: series ended after {index}"));
            assert_eq!(next_index, index + 1, "{name}");
            // A generated due keeps the zone and the all-day-ness.
            assert_eq!(next.time_zone, first.time_zone, "{name}");
            assert_eq!(next.time.is_some(), first.time.is_some(), "{name}");
            walked.push(next.instant());
            (due, index) = (next, next_index);
        }
        let expected: Vec<_> = occurrences(&recurrence, &first, 1, expect.len())
            .unwrap()
            .into_iter()
            .map(|o| o.at)
            .collect();
        let walked: Vec<String> = walked
            .into_iter()
            .map(|at| at.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .collect();
        assert_eq!(walked, expected, "{name}");
        // Where the series ends, generation ends with it.
        if let Some(total) = case["total"].as_u64()
            && total == expect.len() as u64
        {
            assert_eq!(
                next_after(&recurrence, &due, index, due.instant()),
                None,
                "{name}: generated past the end"
            );
        }
    }
}
