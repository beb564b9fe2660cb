# Socket roles written the way Ruby programs usually write them: TCPSocket with connect_timeout,
# Net::HTTP, a TCPServer that serves each connection in a thread, and UDPSocket.
#
#   rubyprobe.rb tcp-client HOST PORT MESSAGE TIMEOUT [close-early]
#   rubyprobe.rb http-get URL TIMEOUT
#   rubyprobe.rb echo-server ADDR PORT          (a thread per connection; runs until a signal)
#   rubyprobe.rb listen-only ADDR PORT SECONDS
#   rubyprobe.rb requests HOST PORT COUNT TIMEOUT
#   rubyprobe.rb udp-client HOST PORT COUNT SIZE TIMEOUT
#   rubyprobe.rb udp-echo ADDR PORT SECONDS
require 'socket'

$stdout.sync = true
mode = ARGV.shift

def read_all(sock, timeout)
  while IO.select([sock], nil, nil, timeout)
    data = sock.readpartial(4096)
    puts "reply #{data.bytesize}"
  end
rescue EOFError, SystemCallError => e
  puts "read ended: #{e.class}"
end

def exchange(host, port, msg, timeout, how = nil)
  sock = TCPSocket.new(host, port.to_i, connect_timeout: timeout.to_f)
  sock.write("#{msg}\n")
  if how == 'close-early'
    sock.close
    return
  end
  sock.close_write
  read_all(sock, timeout.to_f)
  sock.close
rescue SystemCallError, IOError => e
  puts "failed: #{e.class} #{e.message}"
end

case mode
when 'tcp-client'
  exchange(*ARGV)
when 'http-get'
  require 'net/http'
  url, t = ARGV
  uri = URI(url)
  begin
    Net::HTTP.start(uri.host, uri.port, open_timeout: t.to_f, read_timeout: t.to_f) do |http|
      res = http.get(uri.request_uri)
      puts "#{res.code} #{res.body.bytesize}"
    end
  rescue StandardError => e
    puts "failed: #{e.class} #{e.message}"
  end
when 'echo-server'
  addr, port = ARGV
  server = TCPServer.new(addr, port.to_i)
  loop do
    client = server.accept
    Thread.new(client) do |c|
      while (data = c.readpartial(4096) rescue nil)
        c.write(data)
      end
      c.close
    end
  end
when 'listen-only'
  addr, port, secs = ARGV
  server = TCPServer.new(addr, port.to_i)
  sleep secs.to_f
  server.close
when 'requests'
  host, port, count, t = ARGV
  count.to_i.times { |i| exchange(host, port, "request #{i}", t) }
when 'udp-client'
  host, port, count, size, t = ARGV
  sock = UDPSocket.new
  sock.connect(host, port.to_i)
  count.to_i.times do |i|
    payload = format('dgram %03d ', i).ljust(size.to_i, '.')
    begin
      sock.send(payload, 0)
      if IO.select([sock], nil, nil, t.to_f)
        sock.recv(4096)
      else
        puts "no echo for #{i}"
      end
    rescue SystemCallError => e
      puts "failed: #{e.class}"
    end
    sleep 0.05
  end
  sock.close
when 'udp-echo'
  addr, port, secs = ARGV
  sock = UDPSocket.new
  sock.bind(addr, port.to_i)
  while IO.select([sock], nil, nil, secs.to_f)
    data, peer = sock.recvfrom(4096)
    sock.send(data, 0, peer[3], peer[1])
  end
  sock.close
else
  abort 'usage: rubyprobe.rb MODE ARGS...'
end
