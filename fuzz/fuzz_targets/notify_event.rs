//! keepalived's notify arguments and FIFO lines: any event accepted names a usable
//! instance or group.
#![no_main]

use keepalived_checks::notify::event::{from_args, from_fifo_line, FifoLine};
use keepalived_checks::state::{validate_name, Kind, Seq};
use libfuzzer_sys::fuzz_target;

const SEQ: Seq = Seq {
    boot: None,
    boot_ns: 1,
    tiebreak: 1,
};

fuzz_target!(|data: &str| {
    if let Ok(FifoLine::Event(e)) = from_fifo_line(data, SEQ) {
        assert!(validate_name(&e.name).is_ok(), "{e:?}");
    }
    let args: Vec<String> = data.split(' ').map(str::to_string).collect();
    for named in [None, Some((Kind::Instance, "VI_1"))] {
        if let Ok(e) = from_args(&args, named, SEQ) {
            assert!(validate_name(&e.name).is_ok(), "{e:?}");
        }
    }
});
