//! UDP daemons seen through their real traces (`lab/apps.sh`: tftpd-hpa, Net-SNMP's snmpd): the
//! socket lines of each recording, cut down to what the behaviour under test needs.

use netcheck::testkit::rules::rules_of;
use netcheck::testkit::table::diagnose_texts;

/// tftpd-hpa answered a read request and its retransmission from two forked children, each
/// from its own socket bound to port 0 and connected to the client, each sending block 1 again
/// on its own timeout; tftp-hpa read block 1 twice from port 35000 and once from port 58205 on
/// one socket, the other two were lost (`apps/tftp-random-loss`, server.trace:179-301,
/// client.trace:135-159).
const TFTP_TWO_CHILDREN_SERVER: &str = "20304 1796626363.330145 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[396179]> <0.000012>\n\
20304 1796626363.332250 bind(3<UDP:[396179]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 0 <0.000015>\n\
20304 1796626363.332382 connect(3<UDP:[10.78.1.10:58205]>, {sa_family=AF_INET, sin_port=htons(44731), sin_addr=inet_addr(\"10.78.1.21\")}, 16) = 0 <0.000019>\n\
20304 1796626363.332933 sendto(3<UDP:[10.78.1.10:58205]>, \"\\0\\3\\0\\1tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"..., 516, 0, NULL, 0) = 516 <0.000049>\n\
20305 1796626364.331231 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[399378]> <0.000009>\n\
20305 1796626364.332816 bind(3<UDP:[399378]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 0 <0.000011>\n\
20305 1796626364.332903 connect(3<UDP:[10.78.1.10:35000]>, {sa_family=AF_INET, sin_port=htons(44731), sin_addr=inet_addr(\"10.78.1.21\")}, 16) = 0 <0.000010>\n\
20305 1796626364.333248 sendto(3<UDP:[10.78.1.10:35000]>, \"\\0\\3\\0\\1tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"..., 516, 0, NULL, 0) = 516 <0.000098>\n\
20304 1796626364.333631 sendto(3<UDP:[10.78.1.10:58205]>, \"\\0\\3\\0\\1tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"..., 516, 0, NULL, 0) = 516 <0.000014>\n\
20305 1796626365.333804 sendto(3<UDP:[10.78.1.10:35000]>, \"\\0\\3\\0\\1tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"..., 516, 0, NULL, 0) = 516 <0.000105>\n\
20304 1796626366.334843 sendto(3<UDP:[10.78.1.10:58205]>, \"\\0\\3\\0\\1tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"..., 516, 0, NULL, 0) = 516 <0.000129>\n\
";
const TFTP_TWO_CHILDREN_CLIENT: &str = "20303 1796626363.328141 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[396166]> <0.000015>\n\
20303 1796626363.328253 bind(3<UDP:[396166]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0 <0.000016>\n\
20303 1796626363.328555 sendto(3<UDP:[0.0.0.0:44731]>, \"\\0\\1boot.txt\\0octet\\0\", 17, 0, {sa_family=AF_INET, sin_port=htons(69), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 17 <0.000213>\n\
20303 1796626364.329194 sendto(3<UDP:[0.0.0.0:44731]>, \"\\0\\1boot.txt\\0octet\\0\", 17, 0, {sa_family=AF_INET, sin_port=htons(69), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 17 <0.000122>\n\
20303 1796626364.329425 recvfrom(3<UDP:[0.0.0.0:44731]>, \"\\0\\3\\0\\1tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"..., 516, 0, {sa_family=AF_INET, sin_port=htons(35000), sin_addr=inet_addr(\"10.78.1.10\")}, [28 => 16]) = 516 <0.003876>\n\
20303 1796626365.333991 recvfrom(3<UDP:[0.0.0.0:44731]>, \"\\0\\3\\0\\1tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"..., 516, 0, {sa_family=AF_INET, sin_port=htons(35000), sin_addr=inet_addr(\"10.78.1.10\")}, [28 => 16]) = 516 <0.000006>\n\
20303 1796626366.335108 recvfrom(3<UDP:[0.0.0.0:44731]>, \"\\0\\3\\0\\1tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt\"..., 516, 0, {sa_family=AF_INET, sin_port=htons(58205), sin_addr=inet_addr(\"10.78.1.10\")}, [28 => 16]) = 516 <0.000041>\n\
";

/// tftp-hpa asks a host where nothing serves TFTP: it waits for each answer in recvfrom until
/// its own SIGALRM cuts the call short, sends the request again, and gives up after the fourth
/// (`apps/tftp-server-down`, client.trace:135-154).
const TFTP_UNANSWERED_CLIENT: &str = "17570 1796626304.218673 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[391939]> <0.000040>\n\
17570 1796626304.218853 bind(3<UDP:[391939]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0 <0.000036>\n\
17570 1796626304.219498 sendto(3<UDP:[0.0.0.0:49295]>, \"\\0\\1boot.txt\\0octet\\0\", 17, 0, {sa_family=AF_INET, sin_port=htons(69), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 17 <0.000196>\n\
17570 1796626304.219864 recvfrom(3<UDP:[0.0.0.0:49295]>, 0x557e4bba29e4, 516, 0, 0x7ffd30e54f80, [28]) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <1.000076>\n\
17570 1796626305.220033 --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---\n\
17570 1796626305.220087 sendto(3<UDP:[0.0.0.0:49295]>, \"\\0\\1boot.txt\\0octet\\0\", 17, 0, {sa_family=AF_INET, sin_port=htons(69), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 17 <0.000068>\n\
17570 1796626305.220217 recvfrom(3<UDP:[0.0.0.0:49295]>, 0x557e4bba29e4, 516, 0, 0x7ffd30e54f80, [28]) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <1.000070>\n\
17570 1796626306.220357 --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---\n\
17570 1796626306.220401 sendto(3<UDP:[0.0.0.0:49295]>, \"\\0\\1boot.txt\\0octet\\0\", 17, 0, {sa_family=AF_INET, sin_port=htons(69), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 17 <0.000063>\n\
17570 1796626306.220523 recvfrom(3<UDP:[0.0.0.0:49295]>, 0x557e4bba29e4, 516, 0, 0x7ffd30e54f80, [28]) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <1.000052>\n\
17570 1796626307.220646 --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---\n\
17570 1796626307.220691 sendto(3<UDP:[0.0.0.0:49295]>, \"\\0\\1boot.txt\\0octet\\0\", 17, 0, {sa_family=AF_INET, sin_port=htons(69), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 17 <0.000064>\n\
17570 1796626307.220813 recvfrom(3<UDP:[0.0.0.0:49295]>, 0x557e4bba29e4, 516, 0, 0x7ffd30e54f80, [28]) = ? ERESTARTSYS (To be restarted if SA_RESTART is set) <1.000061>\n\
17570 1796626308.220951 --- SIGALRM {si_signo=SIGALRM, si_code=SI_KERNEL} ---\n\
17570 1796626308.221060 exit_group(0)   = ?\n\
17570 1796626308.221256 +++ exited with 0 +++\n\
";

/// snmpd bound to 127.0.0.1:161 (`agentAddress udp:127.0.0.1:161`); snmpget on another host
/// asks 10.78.1.10:161 three times from an unconnected socket and times out
/// (`apps/snmp-listen-localhost`, server.trace:705-931, client.trace:66-78).
const SNMP_LOOPBACK_SERVER: &str = "25038 1796629928.109326 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 6<UDP:[546642]> <0.000007>\n\
25038 1796629928.109514 bind(6<UDP:[546642]>, {sa_family=AF_INET, sin_port=htons(161), sin_addr=inet_addr(\"127.0.0.1\")}, 16) = 0 <0.000016>\n\
25038 1796629931.284670 close(6<UDP:[127.0.0.1:161]>) = 0 <0.000013>\n\
25038 1796629931.285517 exit_group(0)   = ?\n\
25038 1796629931.286475 +++ exited with 0 +++\n\
";
const SNMP_LOOPBACK_CLIENT: &str = "25053 1796629928.196416 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[546693]> <0.000014>\n\
25053 1796629928.196624 bind(3<UDP:[546693]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0 <0.000009>\n\
25053 1796629928.196672 getsockname(3<UDP:[0.0.0.0:40271]>, {sa_family=AF_INET, sin_port=htons(40271), sin_addr=inet_addr(\"0.0.0.0\")}, [28 => 16]) = 0 <0.000007>\n\
25053 1796629928.196747 sendmsg(3<UDP:[0.0.0.0:40271]>, {msg_name={sa_family=AF_INET, sin_port=htons(161), sin_addr=inet_addr(\"10.78.1.10\")}, msg_namelen=16, msg_iov=[{iov_base=\"07\\2\\1\\1\\4\\6public\\240*\\2\\4\\1\\252\\276:\\2\\1\\0\\2\\1\\0000\\0340\\f\\6\\10+\\6\\1\\2\\1\\1\\5\\0\\5\\0000\\f\\6\\10+\\6\\1\\2\\1\\1\\6\\0\\5\\0\", iov_len=57}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 57 <0.000140>\n\
25053 1796629928.196920 pselect6(4, [3<UDP:[0.0.0.0:40271]>], NULL, NULL, {tv_sec=1, tv_nsec=0}, NULL) = 0 (Timeout) <1.001065>\n\
25053 1796629929.198088 sendmsg(3<UDP:[0.0.0.0:40271]>, {msg_name={sa_family=AF_INET, sin_port=htons(161), sin_addr=inet_addr(\"10.78.1.10\")}, msg_namelen=16, msg_iov=[{iov_base=\"07\\2\\1\\1\\4\\6public\\240*\\2\\4\\1\\252\\276:\\2\\1\\0\\2\\1\\0000\\0340\\f\\6\\10+\\6\\1\\2\\1\\1\\5\\0\\5\\0000\\f\\6\\10+\\6\\1\\2\\1\\1\\6\\0\\5\\0\", iov_len=57}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 57 <0.000066>\n\
25053 1796629929.198235 pselect6(4, [3<UDP:[0.0.0.0:40271]>], NULL, NULL, {tv_sec=0, tv_nsec=999999000}, NULL) = 0 (Timeout) <1.001063>\n\
25053 1796629930.199383 sendmsg(3<UDP:[0.0.0.0:40271]>, {msg_name={sa_family=AF_INET, sin_port=htons(161), sin_addr=inet_addr(\"10.78.1.10\")}, msg_namelen=16, msg_iov=[{iov_base=\"07\\2\\1\\1\\4\\6public\\240*\\2\\4\\1\\252\\276:\\2\\1\\0\\2\\1\\0000\\0340\\f\\6\\10+\\6\\1\\2\\1\\1\\5\\0\\5\\0000\\f\\6\\10+\\6\\1\\2\\1\\1\\6\\0\\5\\0\", iov_len=57}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 57 <0.000063>\n\
25053 1796629930.199519 pselect6(4, [3<UDP:[0.0.0.0:40271]>], NULL, NULL, {tv_sec=0, tv_nsec=999999000}, NULL) = 0 (Timeout) <1.001110>\n\
25053 1796629931.200776 close(3<UDP:[0.0.0.0:40271]>) = 0 <0.000017>\n\
";

/// snmpd on 10.78.1.10:161 receives from snmpget (c1) and snmpwalk (c2); each client's socket
/// is bound to the wildcard address, its port shown by getsockname and `-yy` only
/// (`apps/snmp-healthy`, server.trace:705-786, client.trace:66-71, client2.trace:84-89).
const SNMP_SERVER: &str = "24578 1796629927.093424 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 6<UDP:[545259]> <0.000006>\n\
24578 1796629927.093694 bind(6<UDP:[545259]>, {sa_family=AF_INET, sin_port=htons(161), sin_addr=inet_addr(\"10.78.1.10\")}, 16) = 0 <0.000011>\n\
24578 1796629927.165704 recvmsg(6<UDP:[10.78.1.10:161]>, {msg_name={sa_family=AF_INET, sin_port=htons(55110), sin_addr=inet_addr(\"10.78.1.21\")}, msg_namelen=28 => 16, msg_iov=[{iov_base=\"07\\2\\1\\1\\4\\6public\\240*\\2\\4y\\2738\\241\\2\\1\\0\\2\\1\\0000\\0340\\f\\6\\10+\\6\\1\\2\\1\\1\\5\\0\\5\\0000\\f\\6\\10+\\6\\1\\2\\1\\1\\6\\0\\5\\0\", iov_len=65536}], msg_iovlen=1, msg_control=[{cmsg_len=28, cmsg_level=SOL_IP, cmsg_type=IP_PKTINFO, cmsg_data={ipi_ifindex=if_nametoindex(\"eth0\"), ipi_spec_dst=inet_addr(\"10.78.1.10\"), ipi_addr=inet_addr(\"10.78.1.10\")}}], msg_controllen=32, msg_flags=0}, MSG_DONTWAIT) = 57 <0.000012>\n\
24578 1796629927.241522 recvmsg(6<UDP:[10.78.1.10:161]>, {msg_name={sa_family=AF_INET, sin_port=htons(35645), sin_addr=inet_addr(\"10.78.1.22\")}, msg_namelen=28 => 16, msg_iov=[{iov_base=\"0'\\2\\1\\1\\4\\6public\\241\\32\\2\\4@\\243\\354\\253\\2\\1\\0\\2\\1\\0000\\f0\\n\\6\\6+\\6\\1\\2\\1\\1\\5\\0\", iov_len=65536}], msg_iovlen=1, msg_control=[{cmsg_len=28, cmsg_level=SOL_IP, cmsg_type=IP_PKTINFO, cmsg_data={ipi_ifindex=if_nametoindex(\"eth0\"), ipi_spec_dst=inet_addr(\"10.78.1.10\"), ipi_addr=inet_addr(\"10.78.1.10\")}}], msg_controllen=32, msg_flags=0}, MSG_DONTWAIT) = 41 <0.000091>\n\
";
const SNMP_CLIENT: &str = "24593 1796629927.165071 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[545309]> <0.000013>\n\
24593 1796629927.165278 bind(3<UDP:[545309]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0 <0.000009>\n\
24593 1796629927.165327 getsockname(3<UDP:[0.0.0.0:55110]>, {sa_family=AF_INET, sin_port=htons(55110), sin_addr=inet_addr(\"0.0.0.0\")}, [28 => 16]) = 0 <0.000008>\n\
24593 1796629927.165405 sendmsg(3<UDP:[0.0.0.0:55110]>, {msg_name={sa_family=AF_INET, sin_port=htons(161), sin_addr=inet_addr(\"10.78.1.10\")}, msg_namelen=16, msg_iov=[{iov_base=\"07\\2\\1\\1\\4\\6public\\240*\\2\\4y\\2738\\241\\2\\1\\0\\2\\1\\0000\\0340\\f\\6\\10+\\6\\1\\2\\1\\1\\5\\0\\5\\0000\\f\\6\\10+\\6\\1\\2\\1\\1\\6\\0\\5\\0\", iov_len=57}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 57 <0.000157>\n\
";
const SNMP_CLIENT2: &str = "24605 1796629927.240952 socket(AF_INET, SOCK_DGRAM, IPPROTO_IP) = 3<UDP:[545588]> <0.000014>\n\
24605 1796629927.241159 bind(3<UDP:[545588]>, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr(\"0.0.0.0\")}, 16) = 0 <0.000008>\n\
24605 1796629927.241212 getsockname(3<UDP:[0.0.0.0:35645]>, {sa_family=AF_INET, sin_port=htons(35645), sin_addr=inet_addr(\"0.0.0.0\")}, [28 => 16]) = 0 <0.000008>\n\
24605 1796629927.241286 sendmsg(3<UDP:[0.0.0.0:35645]>, {msg_name={sa_family=AF_INET, sin_port=htons(161), sin_addr=inet_addr(\"10.78.1.10\")}, msg_namelen=16, msg_iov=[{iov_base=\"0'\\2\\1\\1\\4\\6public\\241\\32\\2\\4@\\243\\354\\253\\2\\1\\0\\2\\1\\0000\\f0\\n\\6\\6+\\6\\1\\2\\1\\1\\5\\0\", iov_len=41}], msg_iovlen=1, msg_controllen=0, msg_flags=0}, MSG_DONTWAIT) = 41 <0.000172>\n\
";

/// Each child's port shows only in its `-yy` decoration (`3<UDP:[10.78.1.10:58205]>`): learnt
/// from it, each read finds the block the child it names sent, by source port, and the two
/// blocks lost are the first child's. Unlearnt, the reads from port 35000 took the first
/// child's blocks (its port unknown, any source fits) and no loss showed.
#[test]
fn datagrams_of_sockets_bound_to_port_0_are_told_apart_by_their_decorated_port() {
    let conf = "host server\n trace server.trace\n ip 10.78.1.10\nhost client\n trace client.trace\n ip 10.78.1.21\n";
    let analysis = diagnose_texts(
        "udp-daemons-children",
        conf,
        &[
            ("server.trace", TFTP_TWO_CHILDREN_SERVER),
            ("client.trace", TFTP_TWO_CHILDREN_CLIENT),
        ],
    );
    let mut from_children: Vec<(u16, u64, u64)> = analysis
        .outcome
        .udp
        .iter()
        .filter(|f| f.receiver_addr.port() == 44731)
        .map(|f| {
            let (sent, got) = f
                .by_size
                .iter()
                .fold((0, 0), |(s, r), (_, sent, got)| (s + sent, r + got));
            (f.sender_addr.map_or(0, |a| a.port()), sent, got)
        })
        .collect();
    from_children.sort();
    assert_eq!(from_children, vec![(35000, 2, 2), (58205, 3, 1)]);
    let fired = rules_of(&analysis.findings);
    assert!(fired.contains(&"udp-loss"), "{fired:?}");
    assert!(!fired.contains(&"data-mismatch"), "{fired:?}");
}

/// A receive a signal cut short (`= ? ERESTARTSYS`) is a wait in vain, as a poll that timed out
/// is: the requests sent again after it went unanswered.
#[test]
fn a_receive_cut_short_by_the_programs_own_alarm_leaves_its_request_unanswered() {
    let conf = "host server\n ip 10.78.1.10\nhost client\n trace client.trace\n ip 10.78.1.21\n";
    let analysis = diagnose_texts(
        "udp-daemons-alarm",
        conf,
        &[("client.trace", TFTP_UNANSWERED_CLIENT)],
    );
    assert_eq!(rules_of(&analysis.findings), vec!["no-reply"]);
}

/// Linux delivers a datagram to a socket bound to 127.0.0.1 only when it is addressed there:
/// sent to the host's external address it finds nothing bound, and the ICMP port unreachable
/// never reaches an unconnected sender. No loss: a service bound to loopback.
#[test]
fn datagrams_to_a_port_served_on_loopback_only_are_not_lost() {
    let conf = "host server\n trace server.trace\n ip 10.78.1.10\nhost client\n trace client.trace\n ip 10.78.1.21\n";
    let analysis = diagnose_texts(
        "udp-daemons-loopback",
        conf,
        &[
            ("server.trace", SNMP_LOOPBACK_SERVER),
            ("client.trace", SNMP_LOOPBACK_CLIENT),
        ],
    );
    assert_eq!(
        rules_of(&analysis.findings),
        vec!["loopback-bound-external-peer"]
    );
}

/// Without a configuration, each client's address is the source a server saw; two clients of
/// one UDP server whose traces never show their own address are told apart by their ports.
#[test]
fn two_udp_clients_of_one_server_get_the_addresses_it_saw_by_their_ports() {
    let analysis = diagnose_texts(
        "udp-daemons-infer",
        "",
        &[
            ("server.trace", SNMP_SERVER),
            ("client.trace", SNMP_CLIENT),
            ("client2.trace", SNMP_CLIENT2),
        ],
    );
    let ips = |name: &str| -> Vec<String> {
        analysis
            .topology
            .hosts
            .iter()
            .find(|h| h.name == name)
            .map(|h| h.ips.iter().map(|ip| ip.to_string()).collect())
            .unwrap_or_default()
    };
    assert_eq!(ips("client"), vec!["10.78.1.21"]);
    assert_eq!(ips("client2"), vec!["10.78.1.22"]);
}
