// The Java programs of lab/java.sh: clients and servers written with the JDK's own network
// APIs (java.net, java.nio.channels, java.net.http, com.sun.net.httpserver), one per mode.
//
// Usage: java JavaProbe.java MODE ARGS...
//   client-block HOST PORT N        java.net.Socket(host, port): blocking connect, N lines
//   client-timeout HOST PORT N      new Socket() + connect(addr, 2000): nonblocking connect + poll
//   client-nio HOST PORT N          SocketChannel + Selector (epoll), nonblocking connect
//   client-http HOST PORT N         java.net.http.HttpClient, N GETs on one connection
//   client-url HOST PORT N          HttpURLConnection, N GETs (keep-alive)
//   client-many HOST PORT N         N connections one after another, three lines each
//   client-idle HOST PORT SECONDS   one line, an idle pause, one more line, graceful close
//   client-bulk HOST PORT KB        a hello line and its answer, then KB kilobytes, then the
//                                   reply line
//   udp-client HOST PORT N          DatagramSocket: N datagrams, each waits 1 s for its echo
//   udp-channel HOST PORT N         DatagramChannel (connected): N datagrams, 1 s receive timeout
//   server-thread PORT N            ServerSocket, one thread per connection, N connections;
//                                   echoes lines
//   server-nio PORT N               Selector server, echoes lines, stops after N connections close
//   server-http PORT N              com.sun.net.httpserver.HttpServer, stops after N requests
//   server-reset PORT               accepts, reads one line, closes with SO_LINGER 0 (RST)
//   server-noread PORT SECONDS      accepts and never reads for SECONDS
//   server-sink PORT                answers the hello line, reads everything, replies "ok N\n" at
//                                   end of stream
//   udp-server PORT N               DatagramSocket echo of N datagrams; ends after 5 s of silence
import java.io.*;
import java.net.*;
import java.net.http.*;
import java.nio.ByteBuffer;
import java.nio.channels.*;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicInteger;

public class JavaProbe {
    public static void main(String[] a) throws Exception {
        switch (a[0]) {
            case "client-block" -> lines(new Socket(a[1], Integer.parseInt(a[2])), Integer.parseInt(a[3]));
            case "client-timeout" -> {
                Socket s = new Socket();
                s.connect(new InetSocketAddress(a[1], Integer.parseInt(a[2])), 2000);
                lines(s, Integer.parseInt(a[3]));
            }
            case "client-many" -> {
                for (int i = 0; i < Integer.parseInt(a[3]); i++) lines(new Socket(a[1], Integer.parseInt(a[2])), 3);
            }
            case "client-nio" -> clientNio(a[1], Integer.parseInt(a[2]), Integer.parseInt(a[3]));
            case "client-http" -> {
                HttpClient c = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(java.time.Duration.ofSeconds(3)).build();
                for (int i = 0; i < Integer.parseInt(a[3]); i++) {
                    HttpRequest r = HttpRequest.newBuilder(URI.create("http://" + a[1] + ":" + a[2] + "/r" + i))
                            .timeout(java.time.Duration.ofSeconds(5)).build();
                    System.out.println(c.send(r, HttpResponse.BodyHandlers.ofString()).body().length());
                }
            }
            case "client-url" -> {
                for (int i = 0; i < Integer.parseInt(a[3]); i++) {
                    HttpURLConnection u = (HttpURLConnection) URI.create("http://" + a[1] + ":" + a[2] + "/u" + i).toURL().openConnection();
                    u.setConnectTimeout(3000);
                    u.setReadTimeout(5000);
                    try (InputStream in = u.getInputStream()) {
                        System.out.println(in.readAllBytes().length);
                    }
                }
            }
            case "client-idle" -> {
                try (Socket s = new Socket(a[1], Integer.parseInt(a[2]))) {
                    BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream()));
                    OutputStream o = s.getOutputStream();
                    o.write("first\n".getBytes()); o.flush(); System.out.println(r.readLine());
                    Thread.sleep(Integer.parseInt(a[3]) * 1000L);
                    o.write("second\n".getBytes()); o.flush(); System.out.println(r.readLine());
                    s.shutdownOutput();
                    System.out.println(r.readLine());
                }
            }
            case "client-bulk" -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(a[1], Integer.parseInt(a[2])), 3000);
                    s.setSoTimeout(20000);
                    OutputStream o = s.getOutputStream();
                    InputStream in = s.getInputStream();
                    o.write("hello\n".getBytes());
                    o.flush();
                    System.out.println(line(in));
                    byte[] chunk = new byte[1024];
                    java.util.Arrays.fill(chunk, (byte) 'j');
                    for (int i = 0; i < Integer.parseInt(a[3]); i++) o.write(chunk);
                    o.flush();
                    s.shutdownOutput();
                    System.out.println(line(in));
                }
            }
            case "udp-client" -> {
                try (DatagramSocket d = new DatagramSocket()) {
                    d.setSoTimeout(1000);
                    InetSocketAddress to = new InetSocketAddress(a[1], Integer.parseInt(a[2]));
                    for (int i = 0; i < Integer.parseInt(a[3]); i++) {
                        byte[] m = ("ping " + i).getBytes();
                        d.send(new DatagramPacket(m, m.length, to));
                        DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
                        try { d.receive(p); System.out.println(new String(p.getData(), 0, p.getLength())); }
                        catch (IOException e) { System.out.println("udp: " + e); }
                    }
                }
            }
            case "udp-channel" -> {
                try (DatagramChannel d = DatagramChannel.open()) {
                    d.connect(new InetSocketAddress(a[1], Integer.parseInt(a[2])));
                    d.configureBlocking(false);
                    Selector sel = Selector.open();
                    d.register(sel, SelectionKey.OP_READ);
                    for (int i = 0; i < Integer.parseInt(a[3]); i++) {
                        d.write(ByteBuffer.wrap(("chan " + i).getBytes()));
                        if (sel.select(1000) == 0) { System.out.println("udp: timeout"); continue; }
                        sel.selectedKeys().clear();
                        ByteBuffer b = ByteBuffer.allocate(1500);
                        try { d.read(b); System.out.println(b.position()); }
                        catch (IOException e) { System.out.println("udp: " + e); }
                    }
                }
            }
            case "server-thread" -> {
                try (ServerSocket ss = new ServerSocket(Integer.parseInt(a[1]))) {
                    Thread[] ts = new Thread[Integer.parseInt(a[2])];
                    for (int i = 0; i < ts.length; i++) {
                        Socket s = ss.accept();
                        ts[i] = new Thread(() -> echo(s));
                        ts[i].start();
                    }
                    for (Thread t : ts) t.join();
                }
            }
            case "server-nio" -> serverNio(Integer.parseInt(a[1]), Integer.parseInt(a[2]));
            case "server-http" -> {
                int n = Integer.parseInt(a[2]);
                AtomicInteger served = new AtomicInteger();
                Object done = new Object();
                com.sun.net.httpserver.HttpServer h = com.sun.net.httpserver.HttpServer.create(new InetSocketAddress(Integer.parseInt(a[1])), 16);
                h.createContext("/", ex -> {
                    byte[] body = ("hello " + ex.getRequestURI() + "\n").getBytes();
                    ex.sendResponseHeaders(200, body.length);
                    try (OutputStream o = ex.getResponseBody()) { o.write(body); }
                    if (served.incrementAndGet() >= n) synchronized (done) { done.notifyAll(); }
                });
                h.start();
                synchronized (done) { while (served.get() < n) done.wait(); }
                h.stop(1);
            }
            case "server-reset" -> {
                try (ServerSocket ss = new ServerSocket(Integer.parseInt(a[1]))) {
                    Socket s = ss.accept();
                    System.out.println(new BufferedReader(new InputStreamReader(s.getInputStream())).readLine());
                    s.setSoLinger(true, 0);
                    s.close();
                }
            }
            case "server-noread" -> {
                try (ServerSocket ss = new ServerSocket(Integer.parseInt(a[1]))) {
                    Socket s = ss.accept();
                    Thread.sleep(Integer.parseInt(a[2]) * 1000L);
                    s.close();
                }
            }
            case "server-sink" -> {
                try (ServerSocket ss = new ServerSocket(Integer.parseInt(a[1])); Socket s = ss.accept()) {
                    s.setSoTimeout(20000);
                    s.getOutputStream().write((line(s.getInputStream()) + "\n").getBytes());
                    long n = s.getInputStream().transferTo(OutputStream.nullOutputStream());
                    s.getOutputStream().write(("ok " + n + "\n").getBytes());
                }
            }
            case "udp-server" -> {
                try (DatagramSocket d = new DatagramSocket(Integer.parseInt(a[1]))) {
                    d.setSoTimeout(5000);
                    for (int i = 0; i < Integer.parseInt(a[2]); i++) {
                        DatagramPacket p = new DatagramPacket(new byte[1500], 1500);
                        try { d.receive(p); } catch (SocketTimeoutException e) { break; }
                        d.send(new DatagramPacket(p.getData(), p.getLength(), p.getSocketAddress()));
                    }
                }
            }
            default -> throw new IllegalArgumentException(a[0]);
        }
    }

    /** One line read byte by byte, so nothing after it is taken from the stream. */
    static String line(InputStream in) throws IOException {
        StringBuilder b = new StringBuilder();
        for (int c; (c = in.read()) >= 0 && c != '\n'; ) b.append((char) c);
        return b.toString();
    }

    static void lines(Socket s, int n) throws IOException {
        try (s) {
            BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream()));
            OutputStream o = s.getOutputStream();
            for (int i = 0; i < n; i++) {
                o.write(("line " + i + "\n").getBytes());
                o.flush();
                System.out.println(r.readLine());
            }
        }
    }

    static void echo(Socket s) {
        try (s) {
            BufferedReader r = new BufferedReader(new InputStreamReader(s.getInputStream()));
            OutputStream o = s.getOutputStream();
            for (String l; (l = r.readLine()) != null; ) { o.write((l + "\n").getBytes()); o.flush(); }
        } catch (IOException e) {
            System.out.println("echo: " + e);
        }
    }

    static void clientNio(String host, int port, int n) throws IOException {
        try (SocketChannel c = SocketChannel.open(); Selector sel = Selector.open()) {
            c.configureBlocking(false);
            c.connect(new InetSocketAddress(host, port));
            c.register(sel, SelectionKey.OP_CONNECT);
            if (sel.select(3000) == 0) throw new IOException("connect timed out");
            c.finishConnect();
            c.register(sel, SelectionKey.OP_READ);
            ByteBuffer in = ByteBuffer.allocate(4096);
            for (int i = 0; i < n; i++) {
                c.write(ByteBuffer.wrap(("nio " + i + "\n").getBytes()));
                while (true) {
                    sel.selectedKeys().clear();
                    if (sel.select(5000) == 0) throw new IOException("read timed out");
                    if (c.read(in) < 0) throw new EOFException();
                    if (in.position() > 0 && in.get(in.position() - 1) == '\n') break;
                }
                System.out.print(new String(in.array(), 0, in.position(), StandardCharsets.UTF_8));
                in.clear();
            }
        }
    }

    static void serverNio(int port, int n) throws IOException {
        try (ServerSocketChannel ss = ServerSocketChannel.open(); Selector sel = Selector.open()) {
            ss.bind(new InetSocketAddress(port));
            ss.configureBlocking(false);
            ss.register(sel, SelectionKey.OP_ACCEPT);
            int closed = 0;
            while (closed < n) {
                sel.select();
                for (Iterator<SelectionKey> it = sel.selectedKeys().iterator(); it.hasNext(); ) {
                    SelectionKey k = it.next();
                    it.remove();
                    if (k.isAcceptable()) {
                        SocketChannel c = ss.accept();
                        if (c == null) continue;
                        c.configureBlocking(false);
                        c.register(sel, SelectionKey.OP_READ, ByteBuffer.allocate(4096));
                    } else if (k.isReadable()) {
                        SocketChannel c = (SocketChannel) k.channel();
                        ByteBuffer b = (ByteBuffer) k.attachment();
                        int got;
                        try { got = c.read(b); } catch (IOException e) { got = -1; }
                        if (got < 0) { k.cancel(); c.close(); closed++; continue; }
                        b.flip();
                        c.write(b);
                        b.clear();
                    }
                }
            }
        }
    }
}
