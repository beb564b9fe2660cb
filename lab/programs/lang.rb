# Ruby's network stack for lab/lang.sh: Net::HTTP and UDPSocket clients, a TCPServer and a
# WEBrick server. Usage:
#   ruby lang.rb get URL [COUNT] [TIMEOUT]     Net::HTTP GETs, one connection each
#   ruby lang.rb server PORT [COUNT|hold]     TCPServer: answers COUNT requests (hold: never answers)
#   ruby lang.rb webrick PORT COUNT|hold      WEBrick: answers COUNT requests, then shuts down
#                                             (hold: each request's thread sleeps, no answer)
#   ruby lang.rb udp HOST PORT COUNT          UDPSocket: COUNT datagrams, each echo awaited 1 s
require 'socket'
require 'net/http'
$stdout.sync = true
mode, *args = ARGV
case mode
when 'get'
  uri = URI(args[0])
  count = (args[1] || 1).to_i
  timeout = (args[2] || 3).to_f
  count.times do |i|
    begin
      Net::HTTP.start(uri.host, uri.port, open_timeout: timeout, read_timeout: timeout) do |h|
        r = h.get("#{uri.path}?n=#{i}")
        puts "#{i}: #{r.code} #{r.body.size}"
      end
    rescue StandardError => e
      puts "#{i}: #{e.class}: #{e.message}"
      exit 1 if args[3] != 'keep-going'
    end
  end
when 'server'
  server = TCPServer.new('0.0.0.0', args[0].to_i)
  hold = args[1] == 'hold'
  count = hold ? 1 << 30 : (args[1] || 1).to_i
  count.times do
    c = server.accept
    while (line = c.gets) && line != "\r\n"; end
    if hold
      sleep 60
    else
      body = "hello from ruby\n"
      c.write "HTTP/1.0 200 OK\r\nContent-Length: #{body.size}\r\nConnection: close\r\n\r\n#{body}"
    end
    c.close
  end
  server.close
when 'webrick'
  require 'webrick'
  count = args[1].to_i
  served = 0
  s = WEBrick::HTTPServer.new(BindAddress: '0.0.0.0', Port: args[0].to_i, Logger: WEBrick::Log.new(nil, 0), AccessLog: [])
  s.mount_proc('/') do |_req, res|
    sleep 60 if args[1] == 'hold'
    res.body = "hello from webrick\n"
    served += 1
    Thread.new { sleep 0.2; s.shutdown } if served >= count
  end
  s.start
when 'udp'
  u = UDPSocket.new
  u.connect(args[0], args[1].to_i)
  args[2].to_i.times do |i|
    u.send("ping #{i}", 0)
    if IO.select([u], nil, nil, 1)
      puts u.recv(512)
    else
      puts "#{i}: no echo"
    end
  end
  u.close
end
