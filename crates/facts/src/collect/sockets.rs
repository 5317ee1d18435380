//! Listening TCP and UDP sockets from `/proc/net/{tcp,tcp6,udp,udp6}` and
//! the processes that own them.

use crate::error::{FactError, FactErrorKind, ParseError};
use crate::model::{Listener, Process, Source};
use crate::root::{Root, join};
use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::{Ipv4Addr, Ipv6Addr};

/// The socket tables read, with their protocol names.
pub const TABLES: &[(&str, &str)] = &[
    ("tcp", "/proc/net/tcp"),
    ("tcp6", "/proc/net/tcp6"),
    ("udp", "/proc/net/udp"),
    ("udp6", "/proc/net/udp6"),
];

/// TCP_LISTEN in the `st` column.
const TCP_LISTEN: u8 = 0x0a;
/// TCP_CLOSE, the state of an unconnected UDP socket.
const UDP_UNCONNECTED: u8 = 0x07;

/// One row of a `/proc/net` socket table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketRow {
    /// Local address.
    pub local: String,
    /// Local port.
    pub local_port: u16,
    /// Remote address.
    pub remote: String,
    /// Remote port.
    pub remote_port: u16,
    /// Whether the remote address is all zeros.
    pub remote_unspecified: bool,
    /// Kernel state (`st` column).
    pub state: u8,
    /// Socket inode.
    pub inode: u64,
}

impl SocketRow {
    /// A listening socket: TCP in LISTEN, or UDP unconnected (state 07,
    /// remote address and port zero).
    pub fn is_listening(&self, tcp: bool) -> bool {
        if tcp {
            self.state == TCP_LISTEN
        } else {
            self.state == UDP_UNCONNECTED && self.remote_unspecified && self.remote_port == 0
        }
    }
}

/// Decode `ADDR:PORT` as printed by the kernel: the address is hex of
/// 32-bit words in little-endian byte order (8 digits IPv4, 32 IPv6), the
/// port hex. Returns (address, port, all-zero).
pub fn decode_endpoint(text: &str) -> Option<(String, u16, bool)> {
    let (addr, port) = text.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let mut bytes = Vec::with_capacity(16);
    if !addr.is_ascii() || !(addr.len() == 8 || addr.len() == 32) {
        return None;
    }
    for i in (0..addr.len()).step_by(8) {
        let word = u32::from_str_radix(addr.get(i..i + 8)?, 16).ok()?;
        bytes.extend_from_slice(&word.to_le_bytes());
    }
    let zero = bytes.iter().all(|&b| b == 0);
    let address = match <[u8; 4]>::try_from(bytes.as_slice()) {
        Ok(v4) => Ipv4Addr::from(v4).to_string(),
        Err(_) => Ipv6Addr::from(<[u8; 16]>::try_from(bytes.as_slice()).ok()?).to_string(),
    };
    Some((address, port, zero))
}

/// Parse a `/proc/net/{tcp,tcp6,udp,udp6}` table (header line skipped).
pub fn parse(text: &str, file: &str) -> Result<Vec<SocketRow>, ParseError> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let mut cols = line.split_whitespace();
        let Some(slot) = cols.next() else {
            continue;
        };
        if slot == "sl" {
            continue;
        }
        let bad = |what: &str| ParseError::new(file, index + 1, format!("bad {what}"));
        if !slot.ends_with(':') {
            return Err(bad("slot column"));
        }
        let (local, local_port, _) = cols
            .next()
            .and_then(decode_endpoint)
            .ok_or_else(|| bad("local address"))?;
        let (remote, remote_port, remote_unspecified) = cols
            .next()
            .and_then(decode_endpoint)
            .ok_or_else(|| bad("remote address"))?;
        let state = cols
            .next()
            .and_then(|s| u8::from_str_radix(s, 16).ok())
            .ok_or_else(|| bad("state"))?;
        // tx:rx queue, tr:when, retrnsmt, uid, timeout, then the inode.
        let inode = cols
            .nth(5)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("inode"))?;
        rows.push(SocketRow {
            local,
            local_port,
            remote,
            remote_port,
            remote_unspecified,
            state,
            inode,
        });
    }
    Ok(rows)
}

/// The inode of an fd link target `socket:[INODE]`.
pub fn socket_inode(target: &str) -> Option<u64> {
    target
        .strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Find which process holds each socket inode by scanning `/proc/<pid>/fd`.
/// Processes this run may not inspect are skipped; the scan stops once all
/// inodes are found.
fn owners(root: &Root, wanted: &BTreeSet<u64>) -> BTreeMap<u64, Process> {
    let mut found: BTreeMap<u64, Process> = BTreeMap::new();
    if wanted.is_empty() {
        return found;
    }
    let Ok(entries) = root.read_dir("/proc") else {
        return found;
    };
    let mut pids: Vec<u32> = entries.iter().filter_map(|n| n.parse().ok()).collect();
    pids.sort_unstable();
    for pid in pids {
        let dir = format!("/proc/{pid}");
        // Resolve the fd directory once; its entries are links read, never
        // followed, so the scan stays beneath the root.
        let Ok(fd_dir) = root.resolve(&join(&dir, "fd")) else {
            continue;
        };
        let Ok(fds) = fs::read_dir(&fd_dir) else {
            continue;
        };
        let mut name: Option<String> = None;
        for fd in fds.flatten() {
            let Ok(target) = fs::read_link(fd.path()) else {
                continue;
            };
            let Some(inode) = target.to_str().and_then(socket_inode) else {
                continue;
            };
            if !wanted.contains(&inode) || found.contains_key(&inode) {
                continue;
            }
            let comm = name.get_or_insert_with(|| {
                root.read_to_string(&join(&dir, "comm"))
                    .map(|c| c.trim_end().to_string())
                    .unwrap_or_default()
            });
            found.insert(
                inode,
                Process {
                    pid,
                    name: comm.clone(),
                },
            );
        }
        if found.len() == wanted.len() {
            break;
        }
    }
    found
}

/// List the listening sockets of a runtime root, sorted by protocol,
/// address and port.
pub fn collect(root: &Root) -> Source<Vec<Listener>> {
    collect_inner(root).into()
}

fn collect_inner(root: &Root) -> Result<Vec<Listener>, FactError> {
    root.require_runtime("/proc/net")?;
    let mut listeners = Vec::new();
    let mut read_any = false;
    for &(protocol, path) in TABLES {
        let text = match root.read_to_string(path) {
            Ok(t) => t,
            // No IPv6 (or no UDP) in this kernel.
            Err(e) if e.kind == FactErrorKind::NotPresent => continue,
            Err(e) => return Err(e),
        };
        read_any = true;
        let tcp = protocol.starts_with("tcp");
        for row in parse(&text, path).map_err(|e| FactError::malformed(path, &e))? {
            if row.is_listening(tcp) {
                listeners.push(Listener {
                    protocol: protocol.to_string(),
                    address: row.local,
                    port: row.local_port,
                    inode: row.inode,
                    process: None,
                });
            }
        }
    }
    if !read_any {
        return Err(FactError::new(
            FactErrorKind::NotPresent,
            "/proc/net/tcp",
            "no socket tables in /proc/net",
        ));
    }
    let wanted: BTreeSet<u64> = listeners
        .iter()
        .map(|l| l.inode)
        .filter(|&i| i != 0)
        .collect();
    let owners = owners(root, &wanted);
    for l in &mut listeners {
        l.process = owners.get(&l.inode).cloned();
    }
    listeners.sort_by(|a, b| {
        (&a.protocol, &a.address, a.port, a.inode).cmp(&(&b.protocol, &b.address, b.port, b.inode))
    });
    Ok(listeners)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:07E8 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 240 1 000000001bf75d66 100 0 0 10 0
   1: 020200C0:D264 507100CB:01BB 01 00000000:00000000 00:00000000 00000000     0        0 18850 1 000000009bc2c0a4 20 4 1 111 -1
   2: 0100007F:0277 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 16001 1 0000000000000000 100 0 0 10 0
";

    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 16443 1 0000000000000000 100 0 0 10 0
   1: 00000000000000000000000001000000:0277 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 16002 1 0000000000000000 100 0 0 10 0
   2: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D3A2 01 00000000:00000000 00:00000000 00000000  1000        0 20001 1 0000000000000000 20 4 30 10 -1
";

    const UDP: &str = "   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  131: 3500007F:0035 00000000:0000 07 00000000:00000000 00:00000000 00000000   101        0 15800 2 0000000000000000 0
  200: 020200C0:0044 FE0200C0:0043 01 00000000:00000000 00:00000000 00000000     0        0 15900 2 0000000000000000 0
";

    #[test]
    fn sockets_decode_ipv4_little_endian_words() {
        let rows = parse(TCP, "/proc/net/tcp").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(
            (rows[0].local.as_str(), rows[0].local_port),
            ("0.0.0.0", 2024)
        );
        assert!(rows[0].is_listening(true));
        assert_eq!(
            (rows[1].local.as_str(), rows[1].remote.as_str()),
            ("192.0.2.2", "203.0.113.80")
        );
        assert!(!rows[1].is_listening(true));
        assert_eq!(
            (rows[2].local.as_str(), rows[2].local_port, rows[2].inode),
            ("127.0.0.1", 631, 16001)
        );
    }

    #[test]
    fn sockets_decode_ipv6_per_word() {
        let rows = parse(TCP6, "/proc/net/tcp6").unwrap();
        assert_eq!((rows[0].local.as_str(), rows[0].local_port), ("::", 22));
        assert_eq!(rows[1].local, "::1");
        assert_eq!(rows[2].local, "::ffff:127.0.0.1");
        assert!(!rows[2].is_listening(true));
    }

    #[test]
    fn sockets_udp_listening_is_unconnected_state_07() {
        let rows = parse(UDP, "/proc/net/udp").unwrap();
        assert!(rows[0].is_listening(false));
        assert_eq!(
            (rows[0].local.as_str(), rows[0].local_port),
            ("127.0.0.53", 53)
        );
        assert!(
            !rows[1].is_listening(false),
            "connected UDP is not listening"
        );
    }

    #[test]
    fn sockets_malformed_rows_name_file_and_line() {
        let bad = "  sl  local_address\n   0: 0000000:0016 00000000:0000 0A 0:0 0:0 0 0 0 1\n";
        let err = parse(bad, "/proc/net/tcp").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("/proc/net/tcp", 2));
        let err = parse("0: 00000000:0016 00000000:0000 0A\n", "t").unwrap_err();
        assert!(err.message.contains("inode"), "{err}");
        let err = parse("0: 00000000:0016 00000000:0000 ZZ 0 0 0 0 0 1\n", "t").unwrap_err();
        assert!(err.message.contains("state"), "{err}");
        assert!(parse("0: é0000000:0016 00000000:0000 0A 0 0 0 0 0 1\n", "t").is_err());
    }

    #[test]
    fn socket_inode_from_fd_link() {
        assert_eq!(socket_inode("socket:[16443]"), Some(16443));
        assert_eq!(socket_inode("pipe:[16443]"), None);
        assert_eq!(socket_inode("/dev/null"), None);
    }

    #[test]
    fn sockets_collect_finds_owner_and_sorts() {
        let tmp = tempfile::tempdir().unwrap();
        let t = tmp.path();
        fs::create_dir_all(t.join("proc/net")).unwrap();
        fs::write(t.join("proc/cmdline"), "ro\n").unwrap();
        fs::write(t.join("proc/net/tcp"), TCP).unwrap();
        fs::write(t.join("proc/net/tcp6"), TCP6).unwrap();
        fs::write(t.join("proc/net/udp"), UDP).unwrap();
        fs::create_dir_all(t.join("proc/812/fd")).unwrap();
        fs::write(t.join("proc/812/comm"), "sshd\n").unwrap();
        symlink("socket:[16443]", t.join("proc/812/fd/3")).unwrap();
        symlink("/dev/null", t.join("proc/812/fd/0")).unwrap();
        fs::create_dir_all(t.join("proc/90/fd")).unwrap();
        fs::write(t.join("proc/90/comm"), "cupsd\n").unwrap();
        symlink("socket:[16001]", t.join("proc/90/fd/7")).unwrap();
        symlink("socket:[16002]", t.join("proc/90/fd/8")).unwrap();
        let root = Root::open(t).unwrap();
        let l = collect(&root).ok().unwrap().clone();
        let keys: Vec<(&str, &str, u16)> = l
            .iter()
            .map(|l| (l.protocol.as_str(), l.address.as_str(), l.port))
            .collect();
        assert_eq!(
            keys,
            [
                ("tcp", "0.0.0.0", 2024),
                ("tcp", "127.0.0.1", 631),
                ("tcp6", "::", 22),
                ("tcp6", "::1", 631),
                ("udp", "127.0.0.53", 53),
            ]
        );
        assert_eq!(l[0].process, None);
        assert_eq!(
            l[1].process,
            Some(Process {
                pid: 90,
                name: "cupsd".into()
            })
        );
        assert_eq!(
            l[2].process,
            Some(Process {
                pid: 812,
                name: "sshd".into()
            })
        );
        assert_eq!(l[3].process.as_ref().unwrap().pid, 90);
    }
}
