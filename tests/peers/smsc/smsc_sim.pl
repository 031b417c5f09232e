#!/usr/bin/perl
# smsc_sim.pl - minimal SMPP 3.4 SMSC simulator for loopback tests.
# Origin: copied from the shared peers set-up (peers/smsc/smsc_sim.pl); textdesk's
# SMPP tests start it from here (tests/unit/sms/test_smpp_peer.c,
# bench/bench_smpp.c, tests/e2e/smpp.test.mjs). Added here: a "t" timestamp on
# every event, delayed submit_sm_resp (--resp-delay / RESPDELAY) and the count
# of outstanding submit_sm (per event, and max_outstanding in STATUS).
# Built on Net::SMPP (Debian package libnet-smpp-perl).
#
# Server:  smsc_sim.pl --port 2775 --ctl-port 2776 [--system-id test --password secret]
#                      [--log FILE] [--auto-dlr] [--dlr-delay SECONDS] [--resp-delay SECONDS]
# Client:  smsc_sim.pl --ctl-port 2776 --send 'MO +46701234567 71000 Hej, jag behöver hjälp'
#
# Listens on 127.0.0.1 only. See README.md for the control commands and the
# JSON-lines event log format.
use strict;
use warnings;
use Getopt::Long;
use IO::Socket::INET;
use IO::Select;
use POSIX qw(strftime);
use Time::HiRes qw(time);
use Encode qw(encode decode);
use Net::SMPP;

my %o = (port => 2775, 'ctl-port' => 2776, 'system-id' => 'test', password => 'secret',
         'smsc-id' => 'SIMSMSC', 'dlr-delay' => 1, 'enquire-interval' => 0,
         'resp-delay' => 0);
GetOptions(\%o, 'port=i', 'ctl-port=i', 'system-id=s', 'password=s', 'smsc-id=s',
           'log=s', 'auto-dlr!', 'dlr-delay=f', 'send=s', 'pidfile=s',
           'enquire-interval=i', 'resp-delay=f', 'help') or die "bad options\n";
if ($o{help}) { exec('perldoc', '-T', $0) ; exit 0 }

# ---------------------------------------------------------------- client mode
if (defined $o{send}) {
    my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $o{'ctl-port'},
                                  Proto => 'tcp', Timeout => 5)
        or die "cannot connect to control port $o{'ctl-port'}: $!\n";
    print $c "$o{send}\n";
    while (my $l = <$c>) { print $l; last if $l =~ /^(OK|ERR)\b/ }
    exit 0;
}

# ---------------------------------------------------------------- server mode
$| = 1;
my $logfh;
if ($o{log}) { open($logfh, '>>', $o{log}) or die "log $o{log}: $!\n"; $logfh->autoflush(1) }
if ($o{pidfile}) { open(my $p, '>', $o{pidfile}) or die; print $p "$$\n"; close $p }

sub jstr { my $s = shift; return 'null' unless defined $s;
    $s =~ s/([\\"])/\\$1/g; $s =~ s/\n/\\n/g; $s =~ s/\r/\\r/g;
    $s =~ s/([\x00-\x1f])/sprintf('\\u%04x', ord $1)/ge; return "\"$s\"" }
my %NUMERIC = map { $_ => 1 } qw(seq status esm_class data_coding registered_delivery port
    ctl_port pid source_addr_ton source_addr_npi dest_addr_ton used_message_payload sar_msg_ref_num
    outstanding t);
sub event {   # one JSON object per line: log file + stdout
    my %e = @_;
    $e{t} = sprintf('%.3f', time);   # seconds since the epoch, ms resolution
    my @k = ('event', grep { $_ ne 'event' } sort keys %e);
    my $line = '{' . join(',', map { my $v = $e{$_};
        "\"$_\":" . ($NUMERIC{$_} && defined $v && $v =~ /^-?\d+(?:\.\d+)?$/ ? $v : jstr($v)) } @k) . '}';
    $line = encode('UTF-8', $line);
    print "$line\n"; print $logfh "$line\n" if $logfh;
}

my $listen = Net::SMPP->new_listen('127.0.0.1', port => $o{port}, smpp_version => 0x34,
                                   async => 1, system_id => $o{'smsc-id'},
                                   enquire_interval => 0)
    or die "cannot listen on 127.0.0.1:$o{port}: $!\n";
my $ctl = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $o{'ctl-port'},
                                Listen => 5, ReuseAddr => 1, Proto => 'tcp')
    or die "cannot listen on control port 127.0.0.1:$o{'ctl-port'}: $!\n";
my $sel = IO::Select->new($listen, $ctl);
my %sess;     # fileno -> {smpp, bound, mode, system_id, peer}
my %ctlc;     # fileno -> {sock, buf}
my $msgid = 1000;
my %submitted;  # message_id -> {src, dst, time, text}
my @pending_dlr;  # [due_time, message_id, stat]
my %fail_next;  # one-shot status for next submit_sm (e.g. 0x58 throttled)
my @pending_resp; # delayed submit_sm_resp: [due_time, session, seq, status, message_id]
my $max_outstanding = 0;  # most submit_sm read and not yet answered on one session
my $running = 1;
$SIG{TERM} = $SIG{INT} = sub { $running = 0 };
$SIG{PIPE} = 'IGNORE';
event(event => 'listening', port => $o{port}, ctl_port => $o{'ctl-port'}, pid => $$);

sub bound_rx {  # sessions that may receive deliver_sm
    return grep { $_->{bound} && $_->{mode} ne 'transmitter' } values %sess;
}

sub close_sess {
    my ($s, $why) = @_;
    $sel->remove($s->{smpp});
    delete $sess{fileno $s->{smpp}};
    close $s->{smpp};
    event(event => 'disconnect', system_id => $s->{system_id}, reason => $why);
}

# GSM 03.38 default alphabet (unpacked, one septet per octet) + extension table
my @GSM = split //, "\@\x{a3}\$\x{a5}\x{e8}\x{e9}\x{f9}\x{ec}\x{f2}\x{c7}\n\x{d8}\x{f8}\r\x{c5}\x{e5}"
  . "\x{394}_\x{3a6}\x{393}\x{39b}\x{3a9}\x{3a0}\x{3a8}\x{3a3}\x{398}\x{39e}\x{1b}\x{c6}\x{e6}\x{df}\x{c9}"
  . " !\"#\x{a4}%&'()*+,-./0123456789:;<=>?\x{a1}ABCDEFGHIJKLMNOPQRSTUVWXYZ\x{c4}\x{d6}\x{d1}\x{dc}\x{a7}"
  . "\x{bf}abcdefghijklmnopqrstuvwxyz\x{e4}\x{f6}\x{f1}\x{fc}\x{e0}";
my %GSMX = ("\x0a" => "\f", "\x14" => '^', "\x28" => '{', "\x29" => '}', "\x2f" => '\\',
            "\x3c" => '[', "\x3d" => '~', "\x3e" => ']', "\x40" => '|', "\x65" => "\x{20ac}");
my %GSM_REV; $GSM_REV{$GSM[$_]} //= chr($_) for 0 .. 127; delete $GSM_REV{"\x{1b}"};
my %GSMX_REV = map { $GSMX{$_} => "\x1b$_" } keys %GSMX;
sub gsm_decode { my $b = shift; my $o = '';
    while ($b =~ /\G(\x1b(.)|(.))/gs) { $o .= defined $2 ? ($GSMX{$2} // ' ') : $GSM[ord($3) & 0x7f] } $o }
sub gsm_encode { join '', map { $GSM_REV{$_} // $GSMX_REV{$_} // '?' } split //, shift }
sub gsm_ok { my $t = shift; !grep { !exists $GSM_REV{$_} && !exists $GSMX_REV{$_} } split //, $t }

# text (perl chars) -> (data_coding, bytes)
sub encode_text {
    my ($text, $dcs) = @_;
    if (!defined $dcs) { $dcs = gsm_ok($text) ? 0 : 8 }
    # UTF-16BE, as handsets send it: characters outside the BMP (emoji) as
    # surrogate pairs (Perl's UCS-2BE would turn them into U+FFFD)
    return ($dcs, encode('UTF-16BE', $text)) if $dcs == 8;
    return ($dcs, encode('iso-8859-1', $text)) if $dcs == 3;
    return ($dcs, gsm_encode($text));
}

sub decode_sm {  # bytes + dcs -> perl chars (best effort, for logging)
    my ($b, $dcs) = @_;
    return decode('UTF-16BE', $b) if ($dcs & 0x0f) == 8 || $dcs == 8;
    return decode('iso-8859-1', $b) if $dcs == 3;
    return gsm_decode($b) if $dcs == 0 || $dcs == 1;   # unpacked GSM 03.38
    return decode('iso-8859-1', $b);
}

sub send_deliver {
    my (%a) = @_;
    my @targets = bound_rx();
    return "ERR no bound receiver/transceiver session" unless @targets;
    my $t = $targets[0];
    my @tlv;
    push @tlv, receipted_message_id => $a{receipted_message_id} . "\0" if defined $a{receipted_message_id};
    push @tlv, message_state => pack('C', $a{message_state}) if defined $a{message_state};
    my $seq = $t->{smpp}->deliver_sm(
        source_addr_ton => $a{src} =~ /^\+/ ? 1 : ($a{src} =~ /^\d+$/ ? 0 : 5),
        source_addr_npi => $a{src} =~ /^[+\d]/ ? 1 : 0,
        source_addr => do { (my $x = $a{src}) =~ s/^\+//; $x },
        dest_addr_ton => 0, dest_addr_npi => 1,
        destination_addr => do { (my $x = $a{dst}) =~ s/^\+//; $x },
        esm_class => $a{esm_class}, data_coding => $a{dcs},
        short_message => $a{sm}, async => 1, @tlv);
    event(event => 'deliver_sm', seq => $seq, to_system_id => $t->{system_id},
          source_addr => $a{src}, destination_addr => $a{dst}, esm_class => $a{esm_class},
          data_coding => $a{dcs}, short_message_hex => unpack('H*', $a{sm}),
          receipted_message_id => $a{receipted_message_id});
    return "OK seq=$seq";
}

sub receipt_text {
    my ($id, $stat, $err, $text) = @_;
    my $s = $submitted{$id} || {};
    my $sd = strftime('%y%m%d%H%M', localtime($s->{time} || time));
    my $dd = strftime('%y%m%d%H%M', localtime);
    my $dl = $stat eq 'DELIVRD' ? '001' : '000';
    return sprintf('id:%s sub:001 dlvrd:%s submit date:%s done date:%s stat:%s err:%s text:%s',
                   $id, $dl, $sd, $dd, $stat, $err, substr($text // '', 0, 20));
}
my %state_of = (ENROUTE => 1, DELIVRD => 2, EXPIRED => 3, DELETED => 4, UNDELIV => 5,
                ACCEPTD => 6, UNKNOWN => 7, REJECTD => 8);

sub send_dlr {
    my ($id, $stat, $err) = @_;
    $stat = uc($stat // 'DELIVRD'); $err //= ($stat eq 'DELIVRD' ? '000' : '001');
    my $s = $submitted{$id} || {};
    # a receipt goes from the handset (original destination) to the original sender
    return send_deliver(src => $s->{dst} // '46700000000', dst => $s->{src} // '71000',
                        esm_class => 0x04, dcs => 0,
                        sm => receipt_text($id, $stat, $err, $s->{text_ascii}),
                        receipted_message_id => $id, message_state => $state_of{$stat} // 7);
}

sub handle_ctl {
    my ($line) = @_;
    $line =~ s/\r?\n$//;
    my $chars = eval { decode('UTF-8', $line, Encode::FB_CROAK) } // decode('iso-8859-1', $line);
    my ($cmd, $rest) = split(/ /, $chars, 2); $cmd = uc($cmd // '');
    if ($cmd eq 'MO' || $cmd eq 'MO7' || $cmd eq 'MOUCS2') {   # MO from to text
        my ($src, $dst, $text) = split(/ /, $rest // '', 3);
        return "ERR usage: MO FROM TO TEXT" unless defined $text;
        my ($dcs, $sm) = encode_text($text, $cmd eq 'MOUCS2' ? 8 : $cmd eq 'MO7' ? 0 : undef);
        return send_deliver(src => $src, dst => $dst, esm_class => 0, dcs => $dcs, sm => $sm);
    } elsif ($cmd eq 'MORAW') {  # MORAW from to esm_class dcs hex
        my ($src, $dst, $esm, $dcs, $hex) = split(/ /, $rest // '');
        return "ERR usage: MORAW FROM TO ESM_CLASS DCS HEX" unless defined $hex;
        return send_deliver(src => $src, dst => $dst, esm_class => oct($esm), dcs => oct($dcs),
                            sm => pack('H*', $hex));
    } elsif ($cmd eq 'MOLONG') {  # MOLONG from to text : split into UDH concatenated UCS-2 parts
        my ($src, $dst, $text) = split(/ /, $rest // '', 3);
        return "ERR usage: MOLONG FROM TO TEXT" unless defined $text;
        # at most 67 UTF-16 units per part, never splitting a surrogate pair
        my @parts = (''); my $units = 0;
        for my $ch (split //, $text) {
            my $u = ord($ch) > 0xFFFF ? 2 : 1;
            if ($units + $u > 67) { push @parts, ''; $units = 0 }
            $parts[-1] .= $ch; $units += $u;
        }
        my $ref = int(rand(255)); my $n = @parts; my $i = 0; my @r;
        for my $p (@parts) {
            $i++;
            push @r, send_deliver(src => $src, dst => $dst, esm_class => 0x40, dcs => 8,
                                  sm => pack('C6', 5, 0, 3, $ref, $n, $i) . encode('UTF-16BE', $p));
        }
        return join(' ', @r) =~ /ERR/ ? "ERR " . join(' ', @r) : "OK parts=$n";
    } elsif ($cmd eq 'DLR') {    # DLR message_id [STAT [ERR]]
        my ($id, $stat, $err) = split(/ /, $rest // '');
        return "ERR usage: DLR MESSAGE_ID [DELIVRD|UNDELIV|EXPIRED|REJECTD...] [ERR]" unless defined $id;
        return send_dlr($id, $stat, $err);
    } elsif ($cmd eq 'AUTODLR') {
        $o{'auto-dlr'} = (lc($rest // '') eq 'on') ? 1 : 0;
        return "OK autodlr=" . ($o{'auto-dlr'} ? 'on' : 'off');
    } elsif ($cmd eq 'FAILNEXT') {   # FAILNEXT status (e.g. 0x58 throttled, 0x45 submit failed)
        $fail_next{status} = oct($rest // '0x45');
        return sprintf("OK next submit_sm gets status 0x%02x", $fail_next{status});
    } elsif ($cmd eq 'RESPDELAY') {  # RESPDELAY seconds: answer submit_sm that much later
        return "ERR usage: RESPDELAY SECONDS" unless ($rest // '') =~ /^\d+(?:\.\d+)?$/;
        $o{'resp-delay'} = $rest + 0;
        return "OK resp-delay=$o{'resp-delay'}";
    } elsif ($cmd eq 'RESETSTATS') {
        $max_outstanding = 0;
        return "OK";
    } elsif ($cmd eq 'ENQUIRE') {
        my @r = map { $_->{smpp}->enquire_link(async => 1) } grep { $_->{bound} } values %sess;
        return "OK sent=" . scalar(@r);
    } elsif ($cmd eq 'UNBIND') {
        my @r = map { $_->{smpp}->unbind(async => 1) } grep { $_->{bound} } values %sess;
        return "OK sent=" . scalar(@r);
    } elsif ($cmd eq 'DROP') {
        my @s = values %sess; close_sess($_, 'dropped by control') for @s;
        return "OK dropped=" . scalar(@s);
    } elsif ($cmd eq 'STATUS') {
        my @b = map { "$_->{system_id}/$_->{mode}" } grep { $_->{bound} } values %sess;
        return "OK sessions=" . scalar(keys %sess) . " bound=" . join(',', @b) .
               " submitted=" . scalar(keys %submitted) . " next_id=" . ($msgid + 1) .
               " max_outstanding=$max_outstanding";
    } elsif ($cmd eq 'QUIT') {
        $running = 0; return "OK bye";
    }
    return "ERR unknown command (MO MO7 MOUCS2 MORAW MOLONG DLR AUTODLR FAILNEXT RESPDELAY RESETSTATS ENQUIRE UNBIND DROP STATUS QUIT)";
}

sub handle_pdu {
    my ($s, $pdu) = @_;
    my $cmd = $pdu->{cmd};
    my $name = Net::SMPP::pdu_tab->{$cmd} ? Net::SMPP::pdu_tab->{$cmd}{cmd} : sprintf('0x%08x', $cmd);
    my $smpp = $s->{smpp};
    if ($cmd == Net::SMPP::CMD_bind_transceiver || $cmd == Net::SMPP::CMD_bind_transmitter
        || $cmd == Net::SMPP::CMD_bind_receiver) {
        my $mode = $name; $mode =~ s/^bind_//;
        my $ok = ($pdu->{system_id} eq $o{'system-id'} && $pdu->{password} eq $o{password});
        my $status = $ok ? 0 : 0x0E;   # ESME_RINVPASWD
        $status = 0x05 if $ok && $s->{bound};   # ESME_RALYBND
        my $m = "${name}_resp";
        $smpp->$m(seq => $pdu->{seq}, status => $status, system_id => $o{'smsc-id'});
        event(event => $name, system_id => $pdu->{system_id}, system_type => $pdu->{system_type},
              interface_version => sprintf('0x%02x', $pdu->{interface_version}),
              address_range => $pdu->{address_range}, status => $status);
        if ($status == 0) { $s->{bound} = 1; $s->{mode} = $mode; $s->{system_id} = $pdu->{system_id} }
        return;
    }
    if (!$s->{bound} && $cmd != Net::SMPP::CMD_enquire_link && $cmd != Net::SMPP::CMD_unbind) {
        $smpp->generic_nack(seq => $pdu->{seq}, status => 0x04);  # ESME_RINVBNDSTS
        event(event => 'reject_unbound', pdu => $name);
        return;
    }
    if ($cmd == Net::SMPP::CMD_enquire_link) {
        $smpp->enquire_link_resp(seq => $pdu->{seq});
        event(event => 'enquire_link', seq => $pdu->{seq});
    } elsif ($cmd == Net::SMPP::CMD_submit_sm) {
        my $status = delete $fail_next{status} // 0;
        my $id = $status ? '' : sprintf('%d', ++$msgid);
        $s->{outstanding}++;
        $max_outstanding = $s->{outstanding} if $s->{outstanding} > $max_outstanding;
        my $outstanding = $s->{outstanding};
        if ($o{'resp-delay'} > 0) {
            push @pending_resp, [time + $o{'resp-delay'}, $s, $pdu->{seq}, $status, $id];
        } else {
            $smpp->submit_sm_resp(seq => $pdu->{seq}, status => $status, message_id => $id);
            $s->{outstanding}--;
        }
        my $sm = $pdu->{short_message} // '';
        my $payload = $pdu->{message_payload};
        my $body = length($sm) ? $sm : ($payload // '');
        my ($udh, $txt) = ('', $body);
        if ($pdu->{esm_class} & 0x40) {
            my $ul = ord(substr($body, 0, 1));
            $udh = substr($body, 0, $ul + 1); $txt = substr($body, $ul + 1);
        }
        my $text = decode_sm($txt, $pdu->{data_coding});
        (my $ascii = $text) =~ s/[^\x20-\x7e]/?/g;
        $submitted{$id} = { src => $pdu->{source_addr}, dst => $pdu->{destination_addr},
                            time => time, text_ascii => $ascii } if $id;
        event(event => 'submit_sm', seq => $pdu->{seq}, message_id => $id, status => $status,
              source_addr => $pdu->{source_addr}, source_addr_ton => $pdu->{source_addr_ton},
              source_addr_npi => $pdu->{source_addr_npi},
              destination_addr => $pdu->{destination_addr}, dest_addr_ton => $pdu->{dest_addr_ton},
              esm_class => $pdu->{esm_class}, data_coding => $pdu->{data_coding},
              registered_delivery => $pdu->{registered_delivery},
              udh_hex => unpack('H*', $udh), short_message_hex => unpack('H*', $txt),
              used_message_payload => (length($sm) ? 0 : defined($payload) ? 1 : 0),
              sar_msg_ref_num => defined $pdu->{sar_msg_ref_num} ? unpack('n', $pdu->{sar_msg_ref_num}) : undef,
              outstanding => $outstanding, text => $text);
        if ($id && $o{'auto-dlr'} && ($pdu->{registered_delivery} & 0x03)) {
            push @pending_dlr, [time + $o{'resp-delay'} + $o{'dlr-delay'}, $id, 'DELIVRD'];
        }
    } elsif ($cmd == Net::SMPP::CMD_deliver_sm_resp) {
        event(event => 'deliver_sm_resp', seq => $pdu->{seq}, status => $pdu->{status});
    } elsif ($cmd == Net::SMPP::CMD_enquire_link_resp) {
        event(event => 'enquire_link_resp', seq => $pdu->{seq});
    } elsif ($cmd == Net::SMPP::CMD_unbind) {
        $smpp->unbind_resp(seq => $pdu->{seq});
        event(event => 'unbind', system_id => $s->{system_id});
        close_sess($s, 'unbind');
    } elsif ($cmd == Net::SMPP::CMD_unbind_resp) {
        close_sess($s, 'unbind_resp');
    } else {
        $smpp->generic_nack(seq => $pdu->{seq}, status => 0x03);  # ESME_RINVCMDID
        event(event => 'unsupported', pdu => $name, seq => $pdu->{seq});
    }
}

while ($running) {
    my $wait = 0.2;
    for my $r (@pending_resp) { my $d = $r->[0] - time; $wait = $d if $d < $wait }
    my @ready = $sel->can_read($wait < 0.001 ? 0.001 : $wait);
    for my $fh (@ready) {
        if ($fh == $listen) {
            my $c = $listen->accept or next;
            ${*$c}{async} = 1; ${*$c}{enquire_interval} = 0;
            $sess{fileno $c} = { smpp => $c, bound => 0, mode => '', system_id => '', outstanding => 0,
                                 peer => $c->peerhost . ':' . $c->peerport };
            $sel->add($c);
            event(event => 'connect', peer => $sess{fileno $c}{peer});
        } elsif ($fh == $ctl) {
            my $c = $ctl->accept or next;
            $ctlc{fileno $c} = { sock => $c, buf => '' };
            $sel->add($c);
        } elsif (my $cc = $ctlc{fileno $fh}) {
            my $n = sysread($fh, my $chunk, 65536);
            if (!$n) { $sel->remove($fh); delete $ctlc{fileno $fh}; close $fh; next }
            $cc->{buf} .= $chunk;
            while ($cc->{buf} =~ s/^([^\n]*)\n//) {
                my $l = $1; next unless length $l;
                my $r = handle_ctl($l);
                event(event => 'control', command => decode('UTF-8', $l, Encode::FB_DEFAULT), result => $r);
                syswrite($fh, "$r\n");
            }
        } elsif (my $s = $sess{fileno $fh}) {
            my $pdu = $s->{smpp}->read_pdu;
            if (!$pdu) { close_sess($s, 'eof'); next }
            handle_pdu($s, $pdu);
        }
    }
    my $now = time;
    # delayed submit_sm_resp, in arrival order; answers for a closed session are dropped
    my @rdue = grep { $_->[0] <= $now } @pending_resp;
    @pending_resp = grep { $_->[0] > $now } @pending_resp;
    for my $r (@rdue) {
        my ($s, $seq, $status, $id) = @$r[1 .. 4];
        next unless $sess{fileno($s->{smpp}) // -1} && $sess{fileno $s->{smpp}} == $s;
        $s->{smpp}->submit_sm_resp(seq => $seq, status => $status, message_id => $id);
        $s->{outstanding}--;
    }
    my @due = grep { $_->[0] <= $now } @pending_dlr;
    @pending_dlr = grep { $_->[0] > $now } @pending_dlr;
    send_dlr($_->[1], $_->[2]) for @due;
}
for my $s (values %sess) { eval { $s->{smpp}->unbind(async => 1) }; close $s->{smpp} }
event(event => 'exit');
exit 0;

__END__

=head1 NAME

smsc_sim.pl - SMPP 3.4 SMSC simulator (see README.md)

=cut
