use netcheck::parse::*;
use netcheck::source::TraceId;
#[test]
fn dump() {
    let name = std::env::var("TRACE").unwrap();
    let mut r = TraceReader::open(std::path::Path::new(&name), TraceId(0)).unwrap();
    for e in r.by_ref() {
        if let TraceEvent::Call(c) = &e {
            if matches!(
                c.syscall,
                Syscall::Ioctl { .. } | Syscall::Recv { fd: 3..=3, .. }
            ) && std::env::var("ALL").is_err()
            {
                continue;
            }
        }
        println!("{}", serde_json::to_string(&e).unwrap());
    }
    println!("{:?}", r.stats());
}
