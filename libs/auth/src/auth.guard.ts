import {
  createParamDecorator,
  Inject,
  Injectable,
  ServiceUnavailableException,
  SetMetadata,
  UnauthorizedException,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request } from 'express';
import { bearerToken, InvalidTokenError, KeysUnavailableError, TokenVerifier, type AccountContext } from './tokens';

export const PUBLIC_ROUTE = 'papka:public';
/** Marks a route (health, docs) as open without a token. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

export type AuthenticatedRequest = Request & { account?: AccountContext };

/** Requires a valid bearer token on every HTTP route not marked @Public(). */
@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(TokenVerifier) private readonly verifier: TokenVerifier,
    private readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_ROUTE, [context.getHandler(), context.getClass()]);
    if (isPublic) return true;
    const req = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const token = bearerToken(req.headers.authorization);
    if (!token) throw new UnauthorizedException('Authorization: Bearer <token> header is required');
    try {
      req.account = await this.verifier.verify(token);
      return true;
    } catch (err) {
      if (err instanceof InvalidTokenError) throw new UnauthorizedException(err.message);
      if (err instanceof KeysUnavailableError) throw new ServiceUnavailableException('Tokens cannot be checked right now (the signing keys are unreachable), try again shortly');
      throw err;
    }
  }
}

/** The caller's account context (set by AuthGuard). */
export const CurrentAccount = createParamDecorator((_: unknown, ctx: ExecutionContext): AccountContext => {
  const req = ctx.switchToHttp().getRequest<AuthenticatedRequest>();
  if (!req.account) throw new UnauthorizedException('not authenticated');
  return req.account;
});
