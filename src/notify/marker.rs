//! The marker: a file that exists only while MASTER, what the seed's notify script
//! touched and its `vrrp_script` tested.

use super::event::Event;
use super::Options;
use crate::state::VrrpState;

/// Creates the marker on MASTER and removes it on any other state; `None` without
/// `--marker`. The result is the action's name and how it went.
pub fn update(event: &Event, opts: &Options) -> Option<(String, Result<String, String>)> {
    let path = opts.marker.as_ref()?;
    let shown = path.display();
    let result = if event.state == VrrpState::Master {
        crate::small_file::create_regular(path, false)
            .and_then(|mut f| {
                use std::io::Write as _;
                f.write_all(format!("{}\n", event.describe()).as_bytes())
            })
            .map(|_| format!("created {shown}"))
            .map_err(|e| format!("cannot create {shown}: {e}"))
    } else {
        match crate::small_file::remove(path) {
            Ok(()) => Ok(format!("removed {shown}")),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(format!("{shown} already absent"))
            }
            Err(e) => Err(format!("cannot remove {shown}: {e}")),
        }
    };
    Some(("marker".into(), result))
}
