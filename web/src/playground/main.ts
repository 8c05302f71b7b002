// GraphQL Playground for the IDE's users: the prebuilt bundle of graphql-playground-react (copied
// into web/dist/playground by scripts/build-web.ts, so nothing comes from a CDN), pointed at this
// server. Queries run over HTTP; subscriptions over WebSocket with the legacy
// subscriptions-transport-ws protocol, which Parley serves beside graphql-transport-ws. The HTTP
// headers pane ({ "Authorization": "Bearer <token>" }) signs in both.
import './playground.css';

interface PlaygroundGlobal {
  init(root: HTMLElement, options: Record<string, unknown>): void;
}

const endpoint = new URL('/graphql', window.location.href).href;
const stylesheet = document.createElement('link');
stylesheet.rel = 'stylesheet';
stylesheet.href = '/playground/index.css';
const script = document.createElement('script');
script.src = '/playground/middleware.js';
script.addEventListener('load', () => {
  const playground = (window as unknown as { GraphQLPlayground: PlaygroundGlobal })
    .GraphQLPlayground;
  playground.init(document.getElementById('root')!, {
    endpoint,
    subscriptionEndpoint: endpoint.replace(/^http/, 'ws'),
  });
});
document.head.append(stylesheet, script);
