//! Pop-up pickers: command data with `SelectApplet` opens a list before the command runs, and
//! the picked row's fields fill `[Field]` in its `Param.X`. Siebel reads the rows from the
//! business component `SelectBusComp` (filtered by `SelectQuerySpec`); scs-sim has three
//! sources:
//! - `List Of Values`: reason codes, from the driver's last `EventReasonCodes` of each category
//!   (fields `Type` = the category, `Code`, `Name` = the label, `Id`);
//! - `Employee`: the colleagues to transfer or consult to, [`EMPLOYEES`] (fields `Login Name`,
//!   `First Name`, `Last Name`, `Work Phone #`);
//! - `DTMF Key`: a phone's keypad (field `Digit`).

use crate::client::Call;
use crate::def::CommandData;

/// One row of a picker: its fields by Siebel name.
pub type Row = Vec<(String, String)>;

/// A picker as the agent sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picker {
    /// `SelectApplet`.
    pub applet: String,
    /// `SelectTitle` (else the applet's name).
    pub title: String,
    /// `SelectBusComp`.
    pub bus_comp: String,
    /// The rows, in order.
    pub rows: Vec<Row>,
}

/// scs-sim's employees (login name, first name, last name, work phone): transfer and consult
/// targets. The extensions are finesse-sim's agents 1002 and 1003 and a number outside.
pub const EMPLOYEES: &[(&str, &str, &str, &str)] = &[
    ("BKIM", "Bo", "Kim", "5002"),
    ("CDIAZ", "Cy", "Diaz", "5003"),
    ("HELPDESK", "Help", "Desk", "5550000"),
];

/// The keys of a DTMF pad.
const DTMF_KEYS: [&str; 12] = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "0", "#"];

fn row(pairs: &[(&str, &str)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// A field of a row (case-insensitive name).
pub fn field<'a>(row: &'a Row, name: &str) -> Option<&'a str> {
    let name = name.trim().trim_matches('\'');
    row.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

/// The reason codes the driver last reported per category, as `List Of Values` rows.
fn reason_rows(calls: &[Call]) -> Vec<Row> {
    let mut latest: Vec<(String, Vec<Row>)> = Vec::new();
    for c in calls {
        if c.event_name() != Some("EventReasonCodes") {
            continue;
        }
        let category = c.field("Category").unwrap_or_default().to_string();
        let count: usize = c.field("Count").and_then(|n| n.parse().ok()).unwrap_or(0);
        let rows = (1..=count)
            .map(|n| {
                let get = |k: &str| c.field(&format!("{k}{n}")).unwrap_or_default();
                row(&[
                    ("Type", &category),
                    ("Code", get("ReasonCode")),
                    ("Name", get("ReasonLabel")),
                    ("Id", get("ReasonId")),
                ])
            })
            .collect();
        latest.retain(|(k, _)| *k != category);
        latest.push((category, rows));
    }
    latest.into_iter().flat_map(|(_, r)| r).collect()
}

/// The picker of this command data, if it has one (`SelectApplet`), with its rows now; an
/// unknown `SelectBusComp` or a query spec scs-sim cannot read is an error.
pub fn picker(data: &CommandData, calls: &[Call]) -> Result<Option<Picker>, String> {
    let Some(applet) = data.select_applet.clone() else {
        return Ok(None);
    };
    let bus_comp = data.select_bus_comp.clone().unwrap_or_default();
    let rows: Vec<Row> = match bus_comp.to_ascii_lowercase().as_str() {
        "list of values" => reason_rows(calls),
        "employee" => EMPLOYEES
            .iter()
            .map(|(login, first, last, phone)| {
                row(&[
                    ("Login Name", login),
                    ("First Name", first),
                    ("Last Name", last),
                    ("Work Phone #", phone),
                ])
            })
            .collect(),
        "dtmf key" => DTMF_KEYS.iter().map(|k| row(&[("Digit", k)])).collect(),
        other => {
            return Err(format!(
                "CmdData {}: picker {applet:?} reads SelectBusComp {other:?}, which scs-sim \
                 does not have (List Of Values, Employee, DTMF Key)",
                data.name
            ))
        }
    };
    let conds = match data.select_query_spec.as_deref() {
        Some(spec) => crate::engine::conditions(spec)
            .map_err(|e| format!("CmdData {}: SelectQuerySpec: {e}", data.name))?,
        None => Vec::new(),
    };
    let rows = rows
        .into_iter()
        .filter(|r| conds.iter().all(|(f, v)| field(r, f) == Some(v.as_str())))
        .collect();
    Ok(Some(Picker {
        title: data.select_title.clone().unwrap_or_else(|| applet.clone()),
        applet,
        bus_comp,
        rows,
    }))
}

/// A row's text for a list: its values joined.
pub fn label(row: &Row) -> String {
    row.iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("Type") && !k.eq_ignore_ascii_case("Id"))
        .map(|(_, v)| v.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(bus_comp: &str, spec: Option<&str>) -> CommandData {
        CommandData {
            name: "X".into(),
            select_applet: Some("Pick Applet".into()),
            select_bus_comp: Some(bus_comp.into()),
            select_query_spec: spec.map(String::from),
            ..CommandData::default()
        }
    }

    fn codes(category: &str, pairs: &[(&str, &str)]) -> Call {
        let mut fields = vec![
            ("Category".to_string(), category.to_string()),
            ("Count".to_string(), pairs.len().to_string()),
        ];
        for (i, (code, label)) in pairs.iter().enumerate() {
            let n = i + 1;
            fields.push((format!("ReasonId{n}"), format!("id{code}")));
            fields.push((format!("ReasonCode{n}"), code.to_string()));
            fields.push((format!("ReasonLabel{n}"), label.to_string()));
        }
        Call::HandleEvent {
            name: "EventReasonCodes".into(),
            fields,
            notify_when_done: false,
            tracking_id: String::new(),
        }
    }

    #[test]
    fn reason_rows_come_from_the_latest_event_of_the_category() {
        let calls = [
            codes("NOT_READY", &[("9", "Old")]),
            codes("LOGOUT", &[("5", "End of shift")]),
            codes("NOT_READY", &[("1", "Break"), ("2", "Meeting")]),
        ];
        let p = picker(&data("List Of Values", Some("[Type]='NOT_READY'")), &calls)
            .unwrap()
            .unwrap();
        let got: Vec<(String, String)> = p
            .rows
            .iter()
            .map(|r| {
                (
                    field(r, "Code").unwrap().to_string(),
                    field(r, "Name").unwrap().to_string(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [("1".into(), "Break".into()), ("2".into(), "Meeting".into())]
        );
        assert_eq!(p.title, "Pick Applet");
        assert_eq!(label(&p.rows[0]), "1 Break");
    }

    #[test]
    fn employees_dtmf_keys_and_unknown_sources() {
        let e = picker(&data("Employee", None), &[]).unwrap().unwrap();
        assert_eq!(e.rows.len(), EMPLOYEES.len());
        assert_eq!(field(&e.rows[0], "'Work Phone #'"), Some("5002"));
        let k = picker(&data("DTMF Key", None), &[]).unwrap().unwrap();
        assert_eq!(k.rows.len(), 12);
        assert_eq!(field(&k.rows[11], "Digit"), Some("#"));
        assert!(picker(&data("Opportunity", None), &[]).is_err());
        assert_eq!(picker(&CommandData::default(), &[]).unwrap(), None);
    }
}
