import { decideRequest, isAllowedRequestUrl } from './chromium';

describe(isAllowedRequestUrl.name, () => {
  it.each(['data:image/png;base64,AAAA', 'DATA:text/css,body{}', 'Data:font/woff2;base64,AA'])('allows %s', (url) => {
    expect(isAllowedRequestUrl(url)).toBe(true);
  });

  it.each([
    'file:///etc/passwd',
    'FILE:///etc/passwd',
    'http://127.0.0.1/x',
    'https://example.com/s.css',
    'ws://127.0.0.1/',
    'blob:null/1234',
    'chrome://version',
    'about:srcdoc',
    ' data:text/plain,x',
    'http://example.com/?data:',
  ])('refuses %s', (url) => {
    expect(isAllowedRequestUrl(url)).toBe(false);
  });
});

describe(decideRequest.name, () => {
  it('loads data: subresources and aborts every other subresource', () => {
    expect(decideRequest('data:font/woff2;base64,AA', false)).toBe('continue');
    expect(decideRequest('http://127.0.0.1/x.png', false)).toBe('abort');
    expect(decideRequest('FILE:///etc/passwd', false)).toBe('abort');
  });

  it('answers every navigation with 204, data: included, so the document stays put', () => {
    expect(decideRequest('http://127.0.0.1/refresh', true)).toBe('no-content');
    expect(decideRequest('file:///etc/passwd', true)).toBe('no-content');
    expect(decideRequest('data:text/html,<p>x</p>', true)).toBe('no-content');
  });
});
