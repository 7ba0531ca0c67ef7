//! A due: wall-clock date and optional time in an IANA zone.
//!
//! A due is stored as the user wrote it (wall clock + zone), not as a UTC
//! instant, so "09:00 every Monday" stays 09:00 after a DST change and the
//! zone database can be updated under it. The UTC instant is derived on
//! demand by [`Due::instant`].

use chrono::{
    DateTime, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta, TimeZone,
    Timelike, Utc,
};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use todo_domain::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Due {
    /// `YYYY-MM-DD`.
    pub date: NaiveDate,
    /// `HH:MM` or `HH:MM:SS`; none for an all-day due.
    #[serde(default, with = "time_format")]
    pub time: Option<NaiveTime>,
    /// IANA name, e.g. `Europe/London`.
    pub time_zone: String,
}

/// An IANA zone by its exact name ("UTC", "Europe/London"); `None` when the
/// zone database does not know it.
pub fn parse_time_zone(name: &str) -> Option<Tz> {
    name.parse::<Tz>().ok()
}

/// A wall-clock time in `tz` as a UTC instant, resolved as RFC 5545
/// (3.3.5) says: a time inside a spring-forward gap is interpreted with the
/// offset in force before the gap, i.e. moved forward by the gap's length
/// (02:30 on a 1-hour gap day becomes 03:30); an ambiguous fall-back time
/// takes its first (earlier) occurrence.
pub fn resolve_local(naive: NaiveDateTime, tz: Tz) -> DateTime<Utc> {
    match tz.from_local_datetime(&naive) {
        LocalResult::Single(at) => at.with_timezone(&Utc),
        LocalResult::Ambiguous(first, second) => first.min(second).with_timezone(&Utc),
        LocalResult::None => {
            // Step back an hour at a time until we leave the gap (gaps are
            // at most a day long, e.g. Pacific/Apia skipped 2011-12-30);
            // the offset there is the one "before the gap".
            let offset_before = (1..=48)
                .find_map(|hours| {
                    tz.from_local_datetime(&(naive - TimeDelta::hours(hours)))
                        .latest()
                })
                .map_or(0, |at| at.offset().fix().local_minus_utc());
            (naive - TimeDelta::seconds(i64::from(offset_before))).and_utc()
        }
    }
}

impl Due {
    /// Validates a client-sent due object. `default_zone` (the user's zone)
    /// applies when `time_zone` is absent or null.
    pub fn from_json(value: &Value, default_zone: &str) -> Result<Due, ApiError> {
        let Some(object) = value.as_object() else {
            return Err(ApiError::validation(
                "due",
                "must be an object such as {\"date\": \"2026-12-04\", \"time\": \"09:00\", \
                 \"time_zone\": \"Europe/London\"}, or null for no due",
            ));
        };
        if let Some(key) = object
            .keys()
            .find(|k| !matches!(k.as_str(), "date" | "time" | "time_zone"))
        {
            return Err(ApiError::validation(
                &format!("due.{key}"),
                "is not a field of a due; a due has only date, time and time_zone",
            ));
        }

        let date = match object.get("date") {
            None | Some(Value::Null) => {
                return Err(ApiError::validation(
                    "due.date",
                    "is required: a calendar date as YYYY-MM-DD",
                ));
            }
            Some(Value::String(s)) => parse_date(s).ok_or_else(|| {
                ApiError::validation(
                    "due.date",
                    format!("`{s}` is not a valid calendar date; expected YYYY-MM-DD"),
                )
            })?,
            Some(_) => {
                return Err(ApiError::validation(
                    "due.date",
                    "must be a string YYYY-MM-DD",
                ));
            }
        };

        let time = match object.get("time") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => Some(parse_time(s).ok_or_else(|| {
                ApiError::validation(
                    "due.time",
                    format!(
                        "`{s}` is not a valid time; expected HH:MM or HH:MM:SS on a \
                         24-hour clock, or null for an all-day due"
                    ),
                )
            })?),
            Some(_) => {
                return Err(ApiError::validation(
                    "due.time",
                    "must be a string HH:MM or HH:MM:SS, or null for an all-day due",
                ));
            }
        };

        let time_zone = match object.get("time_zone") {
            None | Some(Value::Null) => {
                if parse_time_zone(default_zone).is_none() {
                    return Err(ApiError::validation(
                        "due.time_zone",
                        format!(
                            "is missing and the default zone `{default_zone}` is not a \
                             known IANA time zone; send an IANA name such as Europe/London"
                        ),
                    ));
                }
                default_zone.to_owned()
            }
            Some(Value::String(s)) => {
                if parse_time_zone(s).is_none() {
                    return Err(ApiError::validation(
                        "due.time_zone",
                        format!(
                            "`{s}` is not a known IANA time zone; expected a name such as \
                             Europe/London, America/New_York or UTC"
                        ),
                    ));
                }
                s.clone()
            }
            Some(_) => {
                return Err(ApiError::validation(
                    "due.time_zone",
                    "must be a string naming an IANA time zone, such as Europe/London",
                ));
            }
        };

        Ok(Due {
            date,
            time,
            time_zone,
        })
    }

    /// The due's zone. It was validated on input; UTC is only a fallback
    /// for data written by something that skipped validation.
    pub fn tz(&self) -> Tz {
        parse_time_zone(&self.time_zone).unwrap_or(Tz::UTC)
    }

    /// Whether the due has no time of day.
    pub fn is_all_day(&self) -> bool {
        self.time.is_none()
    }

    /// The wall-clock date and time (00:00 for an all-day due).
    pub fn local(&self) -> NaiveDateTime {
        self.date.and_time(self.time.unwrap_or(NaiveTime::MIN))
    }

    /// The due as a UTC instant; an all-day due is the start of its date
    /// in its zone (which is not 00:00 where midnight falls in a DST gap).
    pub fn instant(&self) -> DateTime<Utc> {
        resolve_local(self.local(), self.tz())
    }
}

/// `YYYY-MM-DD`, strictly: chrono's own parser also takes `2026-1-5` and
/// signed years, which we do not want to accept (or later echo back).
fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        digits(&s[0..4])? as i32,
        digits(&s[5..7])?,
        digits(&s[8..10])?,
    )
}

/// `HH:MM` or `HH:MM:SS`, strictly (no leap second `:60`, no single digits).
pub(crate) fn parse_time(s: &str) -> Option<NaiveTime> {
    let b = s.as_bytes();
    let seconds = match b.len() {
        5 => 0,
        8 if b[5] == b':' => digits(&s[6..8])?,
        _ => return None,
    };
    if b[2] != b':' {
        return None;
    }
    NaiveTime::from_hms_opt(digits(&s[0..2])?, digits(&s[3..5])?, seconds)
}

fn digits(s: &str) -> Option<u32> {
    if s.bytes().all(|c| c.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

/// `HH:MM` when the seconds are zero (what people write), else `HH:MM:SS`.
pub(crate) fn format_time(time: NaiveTime) -> String {
    if time.second() == 0 {
        time.format("%H:%M").to_string()
    } else {
        time.format("%H:%M:%S").to_string()
    }
}

/// Serde for `Due::time`: writes `HH:MM` or `HH:MM:SS`, reads both.
mod time_format {
    use chrono::NaiveTime;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(time: &Option<NaiveTime>, s: S) -> Result<S::Ok, S::Error> {
        match time {
            Some(t) => s.serialize_str(&super::format_time(*t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveTime>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| {
                super::parse_time(&s).ok_or_else(|| {
                    D::Error::custom(format!("`{s}` is not a time HH:MM or HH:MM:SS"))
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn due(date: &str, time: Option<&str>, zone: &str) -> Due {
        Due {
            date: parse_date(date).unwrap(),
            time: time.map(|t| parse_time(t).unwrap()),
            time_zone: zone.to_owned(),
        }
    }

    fn at(due: &Due) -> String {
        due.instant().format("%Y-%m-%dT%H:%M:%SZ").to_string()
    }

    fn err_field(value: Value) -> (String, String, u16) {
        let e = Due::from_json(&value, "Europe/London").unwrap_err();
        (e.field.unwrap(), e.message, e.status)
    }

    #[test]
    fn time_zones_by_exact_iana_name() {
        assert_eq!(parse_time_zone("UTC"), Some(Tz::UTC));
        assert_eq!(parse_time_zone("Europe/London"), Some(Tz::Europe__London));
        assert_eq!(parse_time_zone("Mars/Olympus"), None);
        assert_eq!(parse_time_zone(""), None);
    }

    #[test]
    fn new_york_spring_gap_moves_forward_by_the_gap() {
        // 2027-03-14 02:00 EST -> 03:00 EDT; 02:30 does not exist.
        assert_eq!(
            at(&due("2027-03-14", Some("02:30"), "America/New_York")),
            "2027-03-14T07:30:00Z"
        );
        assert_eq!(
            at(&due("2027-03-14", Some("01:59"), "America/New_York")),
            "2027-03-14T06:59:00Z"
        );
        assert_eq!(
            at(&due("2027-03-14", Some("03:00"), "America/New_York")),
            "2027-03-14T07:00:00Z"
        );
    }

    #[test]
    fn new_york_fall_back_takes_first_occurrence() {
        // 2027-11-07 02:00 EDT -> 01:00 EST; 01:30 happens twice.
        assert_eq!(
            at(&due("2027-11-07", Some("01:30"), "America/New_York")),
            "2027-11-07T05:30:00Z"
        );
        assert_eq!(
            at(&due("2027-11-07", Some("02:30"), "America/New_York")),
            "2027-11-07T07:30:00Z"
        );
    }

    #[test]
    fn london_gap_overlap_and_all_day() {
        // 2027-03-28 01:00 GMT -> 02:00 BST.
        assert_eq!(
            at(&due("2027-03-28", Some("01:30"), "Europe/London")),
            "2027-03-28T01:30:00Z"
        );
        assert_eq!(
            at(&due("2027-03-28", Some("09:00"), "Europe/London")),
            "2027-03-28T08:00:00Z"
        );
        // 2027-10-31 02:00 BST -> 01:00 GMT; first 01:30 is BST.
        assert_eq!(
            at(&due("2027-10-31", Some("01:30"), "Europe/London")),
            "2027-10-31T00:30:00Z"
        );
        // All-day dues on both change days start at local midnight.
        assert_eq!(
            at(&due("2027-03-28", None, "Europe/London")),
            "2027-03-28T00:00:00Z"
        );
        assert_eq!(
            at(&due("2027-10-31", None, "Europe/London")),
            "2027-10-30T23:00:00Z"
        );
    }

    #[test]
    fn auckland_gap_and_overlap() {
        // 2026-09-27 02:00 NZST(+12) -> 03:00 NZDT(+13).
        assert_eq!(
            at(&due("2026-09-27", Some("02:15"), "Pacific/Auckland")),
            "2026-09-26T14:15:00Z"
        );
        // 2027-04-04 03:00 NZDT -> 02:00 NZST; first 02:30 is NZDT.
        assert_eq!(
            at(&due("2027-04-04", Some("02:30"), "Pacific/Auckland")),
            "2027-04-03T13:30:00Z"
        );
        assert_eq!(
            at(&due("2026-09-27", None, "Pacific/Auckland")),
            "2026-09-26T12:00:00Z"
        );
        assert_eq!(
            at(&due("2027-04-04", None, "Pacific/Auckland")),
            "2027-04-03T11:00:00Z"
        );
    }

    #[test]
    fn all_day_where_midnight_is_skipped_starts_after_the_gap() {
        // America/Santiago jumps 2026-09-06 00:00 -> 01:00 (-04 -> -03).
        assert_eq!(
            at(&due("2026-09-06", None, "America/Santiago")),
            "2026-09-06T04:00:00Z"
        );
    }

    #[test]
    fn local_and_tz() {
        let d = due("2026-12-04", None, "Nowhere/Else");
        assert_eq!(d.tz(), Tz::UTC);
        assert_eq!(d.local().to_string(), "2026-12-04 00:00:00");
        assert!(d.is_all_day());
    }

    #[test]
    fn serializes_time_as_hh_mm_unless_seconds() {
        let d = due("2026-12-04", Some("09:00"), "Europe/London");
        assert_eq!(
            serde_json::to_value(&d).unwrap(),
            json!({"date": "2026-12-04", "time": "09:00", "time_zone": "Europe/London"})
        );
        let d = due("2026-12-04", Some("09:00:30"), "UTC");
        assert_eq!(serde_json::to_value(&d).unwrap()["time"], "09:00:30");
        let d = due("2026-12-04", None, "UTC");
        assert_eq!(serde_json::to_value(&d).unwrap()["time"], Value::Null);
    }

    #[test]
    fn deserializes_both_time_forms() {
        for (time, want) in [("09:00", "09:00"), ("09:00:30", "09:00:30")] {
            let d: Due = serde_json::from_value(
                json!({"date": "2026-12-04", "time": time, "time_zone": "UTC"}),
            )
            .unwrap();
            assert_eq!(format_time(d.time.unwrap()), want);
        }
        let d: Due =
            serde_json::from_value(json!({"date": "2026-12-04", "time_zone": "UTC"})).unwrap();
        assert_eq!(d.time, None);
        assert!(
            serde_json::from_value::<Due>(
                json!({"date": "2026-12-04", "time": "9am", "time_zone": "UTC"})
            )
            .is_err()
        );
    }

    #[test]
    fn from_json_accepts_and_defaults_zone() {
        let d = Due::from_json(&json!({"date": "2026-12-04"}), "Europe/Paris").unwrap();
        assert_eq!(d, due("2026-12-04", None, "Europe/Paris"));
        let d = Due::from_json(
            &json!({"date": "2026-12-04", "time": "09:00:30", "time_zone": "UTC"}),
            "Europe/Paris",
        )
        .unwrap();
        assert_eq!(d, due("2026-12-04", Some("09:00:30"), "UTC"));
        let d = Due::from_json(
            &json!({"date": "2028-02-29", "time": null, "time_zone": null}),
            "Asia/Tokyo",
        )
        .unwrap();
        assert_eq!(d, due("2028-02-29", None, "Asia/Tokyo"));
    }

    #[test]
    fn from_json_error_fields() {
        let cases = [
            (json!("2026-12-04"), "due"),
            (json!({"time": "09:00"}), "due.date"),
            (json!({"date": 20261204}), "due.date"),
            (json!({"date": "2026-02-30"}), "due.date"),
            (json!({"date": "2026-2-3"}), "due.date"),
            (json!({"date": "2026-12-04T09:00"}), "due.date"),
            (json!({"date": "2026-12-04", "time": "24:00"}), "due.time"),
            (
                json!({"date": "2026-12-04", "time": "23:59:60"}),
                "due.time",
            ),
            (json!({"date": "2026-12-04", "time": "9:00"}), "due.time"),
            (json!({"date": "2026-12-04", "time": 900}), "due.time"),
            (
                json!({"date": "2026-12-04", "time_zone": "Europe/Londn"}),
                "due.time_zone",
            ),
            (
                json!({"date": "2026-12-04", "time_zone": "europe/london"}),
                "due.time_zone",
            ),
            (
                json!({"date": "2026-12-04", "time_zone": 1}),
                "due.time_zone",
            ),
            (json!({"date": "2026-12-04", "zone": "UTC"}), "due.zone"),
        ];
        for (value, field) in cases {
            let (got, message, status) = err_field(value.clone());
            assert_eq!(got, field, "{value}");
            assert_eq!(status, 422);
            assert!(!message.is_empty());
        }
        let (_, message, _) = err_field(json!({"date": "2026-02-30"}));
        assert!(message.contains("2026-02-30") && message.contains("YYYY-MM-DD"));
        let (_, message, _) = err_field(json!({"date": "2026-12-04", "time_zone": "Mars/Base"}));
        assert!(message.contains("Mars/Base") && message.contains("IANA"));
        let e = Due::from_json(&json!({"date": "2026-12-04"}), "Bad/Zone").unwrap_err();
        assert_eq!(e.field.as_deref(), Some("due.time_zone"));
    }
}
