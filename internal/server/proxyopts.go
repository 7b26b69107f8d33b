package server

import (
	"gatehouse/internal/config"
	"gatehouse/internal/proxy"
	"gatehouse/internal/tempfile"
)

// proxyOptions gives the proxy a location's settings in its own terms.
func proxyOptions(l *config.Location) *proxy.Options {
	pp, px, core := l.ProxyPass, &l.Proxy, &l.Core
	o := &proxy.Options{
		Location: l.Name,
		Pass: proxy.Pass{Raw: pp.Raw, URI: pp.URI, HasURI: pp.HasURI, HTTPS: pp.HTTPS,
			ProxyHost: pp.ProxyHost, ProxyPort: pp.ProxyPort},
		HideHeaders:          px.HideHeaders,
		PassHeaders:          px.PassHeaders,
		HTTP11:               px.HTTPVersion == config.HTTP11,
		ConnectTimeout:       px.ConnectTimeout,
		ReadTimeout:          px.ReadTimeout,
		SendTimeout:          px.SendTimeout,
		NextUpstream:         px.NextUpstream,
		NextUpstreamTries:    px.NextUpstreamTries,
		NextUpstreamTimeout:  px.NextUpstreamTimeout,
		PassRequestHeaders:   px.PassRequestHeaders,
		PassRequestBody:      px.PassRequestBody,
		RequestBuffering:     px.RequestBuffering,
		Buffering:            px.Buffering,
		Buffers:              px.Buffers,
		BufferBytes:          px.BufferBytes,
		BufferSize:           px.BufferSize,
		InterceptErrors:      px.InterceptErrors,
		IgnoreClientAbort:    px.IgnoreClientAbort,
		ClientBodyBufferSize: core.ClientBodyBufferSize,
		ClientBodyTemp:       tempfile.Path{Dir: core.ClientBodyTempPath.Path, Levels: core.ClientBodyTempPath.Levels},
		ClientBodyInFile:     core.ClientBodyInFileOnly,
		ClientSendTimeout:    core.SendTimeout,
	}
	for _, h := range px.SetHeaders {
		o.SetHeaders = append(o.SetHeaders, proxy.Header{Name: h.Name, Value: h.Value, Pos: h.Pos})
	}
	for _, rd := range px.Redirects {
		o.Redirects = append(o.Redirects, proxy.Redirect{Default: rd.Default, Pattern: rd.Pattern,
			Replacement: rd.Replacement, Regex: rd.Regex, Pos: rd.Pos})
	}
	return o
}
